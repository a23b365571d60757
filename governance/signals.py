"""The one signal governance sends (DESIGN: dependency direction).

``policy_published`` is sent after the publishing transaction commits, with
``version_id``: evaluations reacts by recomputing every model version against it.
"""

from django.dispatch import Signal

policy_published = Signal()
