"""Court observations (庭审观摩), an app of its own inside exams/ (label `observations`):
events at a court that officials register for or are invited to, QR check-in,
attendance marked by organizers and audited, reflections, the credit they earn
in the annual study plan, and observations turned into case pages (以案释法, cases.py)
that those who missed the hearing study to make it up. It may import exams and
learning; neither imports it (exams.reports aside, which reads across the apps): it
joins them through Wagtail hooks (wagtail_hooks.py) and the site's URLconf
(/observations/)."""
