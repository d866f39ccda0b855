# SPDX-License-Identifier: MIT
"""Errors: every failing call raises a liborbit.Error, which is an OSError with errno set.

The class of an error is also the built-in OSError subclass that OSError(errno, ...)
would pick for its errno, so both of these catch a missing frame:

    except FileNotFoundError:    # ENOENT
    except liborbit.Error:       # any liborbit failure

The built-in classes met most: BlockingIOError (EAGAIN), FileNotFoundError (ENOENT),
PermissionError (EACCES, EPERM), TimeoutError (ETIMEDOUT), InterruptedError (EINTR),
FileExistsError (EEXIST). Other errnos (EINVAL, EMSGSIZE, EPROTO, ENOSPC, ...) raise
liborbit.Error itself. A claim on a held subject raises ClaimBusy (EBUSY), which says
which node holds it.
"""

import errno
import os
from typing import Dict, Optional, Type


class Error(OSError):
    """A liborbit call failed; errno is the (positive) error number it returned."""


class ClaimBusy(Error):
    """A contest claim found the subject held (EBUSY); holder is the holding node,
    possibly the caller's own: leases are not reentrant."""

    def __init__(self, holder: int, label: str) -> None:
        super().__init__(errno.EBUSY, f"{label!r} is held by node {holder}")
        self.holder = holder


_classes: Dict[Type[OSError], Type[Error]] = {OSError: Error}


def _class_for(code: int) -> Type[Error]:
    """Error, or a subclass of Error and of the built-in class for code."""
    builtin = type(OSError(code, ""))
    cls = _classes.get(builtin)
    if cls is None:
        cls = type(builtin.__name__, (Error, builtin),
                   {"__doc__": f"liborbit.Error that is also a {builtin.__name__}.",
                    "__module__": __name__})
        _classes[builtin] = cls
    return cls


def error(ret: int, call: str, filename: Optional[str] = None) -> Error:
    """The exception for a negative errno ret returned by call."""
    code = -ret
    message = f"{call}: {os.strerror(code)}"
    if filename is None:
        return _class_for(code)(code, message)
    return _class_for(code)(code, message, filename)


def check(ret: int, call: str, filename: Optional[str] = None) -> int:
    """ret when it is not negative; raises the matching Error otherwise."""
    if ret < 0:
        raise error(ret, call, filename)
    return ret
