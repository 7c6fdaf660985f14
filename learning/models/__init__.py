from .organisation import Department, Official, User

__all__ = ["Department", "Official", "User"]
