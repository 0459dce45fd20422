"""Falcon (WSGI) with wsgisession: a JSON API keeping a counter and a shopping cart in the session.

Run it from the repository root, with a key (or ``WSGISESSION_DEMO=1`` for a throwaway one)::

    export WSGISESSION_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
    gunicorn examples.falcon_app:app

then call it, keeping the cookies::

    curl -c jar -b jar http://127.0.0.1:8000/count
    curl -c jar -b jar -d item=apple http://127.0.0.1:8000/cart

Sessions go where ``examples/settings.py`` says (a SQLite file in the working directory by default).

Routes: ``/`` is an HTML page linking every other route; ``/count`` adds one to the count
(``{"count": n}``); ``/cart`` lists the cart (GET) or adds the form or JSON field ``item`` to it
(POST); ``/forget`` (POST) deletes the session (``{"forgotten": true}``). No anti-forgery token
here: the session cookie is ``SameSite=Lax`` (the default), so browsers do not send it with another
site's POST.
"""

from __future__ import annotations

from typing import Any

import falcon

from examples.settings import example_settings
from wsgisession import Session, SessionMiddleware, get_session

#: Every route, for the home page's links.
ROUTES = ("/", "/count", "/cart", "/forget")
#: The most items a cart holds: the session is no place for unbounded data.
MAX_ITEMS = 50

HOME = """<!doctype html><html><head><meta charset="utf-8"><title>Falcon and wsgisession</title></head><body>
<h1>Falcon and wsgisession</h1><ul>
<li><a href="/count">/count</a>: add one to the count</li>
<li><a href="/cart">/cart</a>: your cart (POST <code>item</code> to add to it)</li></ul>
<form method="post" action="/forget"><button>Forget me</button></form></body></html>"""


def session(req: falcon.Request) -> Session:
    """This request's session (SessionMiddleware put it in the WSGI environ)."""
    return get_session(req.env)


class Home:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = HOME


class Count:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = session(req)
        data["count"] = data.get("count", 0) + 1
        resp.media = {"count": data["count"]}


class Cart:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"cart": session(req).get("cart", [])}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        media: Any = req.get_media(default_when_empty={})
        item = media.get("item") if isinstance(media, dict) else None
        if not isinstance(item, str) or not item.strip():
            raise falcon.HTTPBadRequest(title="Missing item", description="Send a non-empty field 'item'.")
        cart = session(req).get("cart", [])
        if len(cart) >= MAX_ITEMS:
            raise falcon.HTTPBadRequest(title="Cart full", description=f"A cart holds {MAX_ITEMS} items at most.")
        session(req)["cart"] = [*cart, item.strip()]
        resp.status = falcon.HTTP_201
        resp.media = {"cart": session(req)["cart"]}


class Forget:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        session(req).flush()  # the store entry now, the cookie with this response
        resp.media = {"forgotten": True}


def make_app(settings: dict[str, Any]) -> SessionMiddleware:
    """The Falcon app inside SessionMiddleware."""
    falcon_app = falcon.App()
    for route, resource in zip(ROUTES, (Home(), Count(), Cart(), Forget()), strict=True):
        falcon_app.add_route(route, resource)
    return SessionMiddleware(falcon_app, settings)


app = make_app(example_settings())
