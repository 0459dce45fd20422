"""Session back ends: where a session's data lives between requests.

:class:`SessionBackend` (in :mod:`.contract`, with what passes through it) is the
interface the :class:`~wsgisession.session.Session` talks to. Two implementations ship:
:class:`~.server_side.StoreBackend` keeps data in a :class:`~wsgisession.stores.base.Store`
and only a key in the cookie; :class:`~.signed_cookies.SignedCookieBackend` keeps the data
itself in a signed cookie.
"""

from ._memo import remember_accepted
from .contract import Loaded, Pending, RefusedCookie, Rejected, SessionBackend

__all__ = ["Loaded", "Pending", "RefusedCookie", "Rejected", "SessionBackend", "remember_accepted"]
