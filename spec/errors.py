"""Typed errors shared by every layer.

Every error the specification raises is a :class:`ScoruError`. Two families:

* :class:`EncodingError` — bytes, text or JSON that do not decode (bad
  checksum, wrong prefix, oversized message, malformed Michelson …). These are
  input errors: a user gave us something that is not a valid protocol object.
* :class:`ProtocolError` — a well-formed operation that the protocol rejects.
  Subclasses are named after the Octez error they mirror
  (``Sc_rollup_commitment_past_curfew`` → ``CommitmentPastCurfew``).

Errors render as one sentence a user understands; the values that explain
them are kept as attributes.
"""

from __future__ import annotations


class ScoruError(Exception):
    """Base class of every error raised on purpose by scoru-spec."""


class EncodingError(ScoruError, ValueError):
    """Input that does not decode to a valid protocol object."""


class ConstantsError(ScoruError, ValueError):
    """A set of constants that Octez's ``check_constants`` would refuse."""


class ProtocolError(ScoruError):
    """An operation that the protocol rejects.

    ``octez_error`` names the Octez error identifier this class mirrors.
    """

    octez_error: str = "unknown"
