"""Where Dataverse message-availability facts come from and where they are kept.

This package is the ground floor: the immutable model, the embedded published default, snapshot
files, and (loaded lazily) the Web API client, harvester and cache store. It never imports
``validator``.
"""

__version__ = "0.1.0"
