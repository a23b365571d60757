"""The one signal evaluations sends (DESIGN: dependency direction).

``assessment_changed`` is sent after a recompute that changed model versions' required levels
or determinations commits, with ``version_ids`` (a sorted list; one recompute transaction may
cover many versions): releases reacts by refreshing their gates.
"""

from django.dispatch import Signal

assessment_changed = Signal()
