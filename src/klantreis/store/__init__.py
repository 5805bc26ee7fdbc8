"""The workspace and its data: journeys on disk, events and responses in the embedded store."""

from .workspace import Workspace, find_workspace, init_workspace, open_workspace

__all__ = ["Workspace", "find_workspace", "init_workspace", "open_workspace"]
