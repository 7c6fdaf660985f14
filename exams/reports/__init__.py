"""HR reports in the Wagtail admin: completion by year, department and person, who is
behind, the pre-appointment register and the year-end figures. Every completion
number comes from `learning.completion.evaluate`; `access` decides who may see what."""
