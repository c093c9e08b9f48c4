"""An ambient desktop agent: text or speech in, a skill call out, everything local."""

from agent._version import __version__

__all__ = ["__version__"]
