from .organisation import Department, Official, User
from .topics import LawTopic, Speaker

__all__ = ["Department", "LawTopic", "Official", "Speaker", "User"]
