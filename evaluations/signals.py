"""The one signal evaluations sends (DESIGN: dependency direction).

``assessment_changed`` is sent after a recompute that changed a model version's required level
or determinations commits, with ``version_id``: releases reacts by refreshing gates.
"""

from django.dispatch import Signal

assessment_changed = Signal()
