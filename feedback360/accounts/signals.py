"""What the sign-in page tells whoever listens: the rate limits count each refused password."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent with the app and `email` (as typed) when an email address and password do not match,
# and when a second-step code is wrong.
sign_in_refused = _signals.signal("sign-in-refused")
