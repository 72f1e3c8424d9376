"""What the registry tells the apps above it.

When a person leaves the register (moved out of the area, or died), the apps that hold
a place or a promise for them (a program's seat, a volunteering sign-up) give it up.
``people`` cannot import them, so :func:`doorstep.people.services.person_leave` sends
this signal inside its transaction; a receiver that fails rolls the whole change back.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent by ``people.services.person_leave`` with ``person`` (saved off the register),
#: ``actor``, ``reason`` (a ``LeftReason`` value) and ``on`` (the date). A receiver
#: returns what it did, in words for the staff (or "" when it did nothing).
person_left = Signal()
