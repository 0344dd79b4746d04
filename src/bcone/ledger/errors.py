"""Errors of the ledger domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import BconeError, Conflict, NotFound, ValidationFailed


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = "Ledger account not found"


class TransactionNotFound(NotFound):
    code = "transaction_not_found"
    title = "Ledger transaction not found"


class PayoutBatchNotFound(NotFound):
    code = "payout_batch_not_found"
    title = "Payout batch not found"


class PayoutLineNotFound(NotFound):
    code = "payout_line_not_found"
    title = "Payout line not found"


class UnbalancedTransaction(ValidationFailed):
    """The entries of a transaction do not sum to 0 for every unit."""

    code = "unbalanced_transaction"
    title = "Transaction is not balanced"


class InvalidPosting(ValidationFailed):
    code = "invalid_posting"
    title = "Invalid posting"


class InsufficientFunds(Conflict):
    """An entry would take an account below its floor; nothing of the transaction was written."""

    code = "insufficient_funds"
    title = "Insufficient funds"


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for a transaction with other content."""

    code = "idempotency_conflict"
    title = "Idempotency key already used with other content"


class AlreadyReversed(Conflict):
    code = "already_reversed"
    title = "Transaction already reversed"


class PayoutStateConflict(Conflict):
    """A payout line or batch is not in a state that allows the change."""

    code = "payout_state_conflict"
    title = "Payout is not in a state that allows this"


class InvalidConfirmation(ValidationFailed):
    code = "invalid_confirmation"
    title = "Invalid payout confirmation"


class ProviderNotConfigured(NotFound):
    code = "payout_provider_not_configured"
    title = "Payout provider not configured"


class ProviderError(BconeError):
    """The payout provider refused a request or could not be reached."""

    code = "payout_provider_error"
    status = 502
    title = "Payout provider error"


class InvalidSignature(BconeError):
    """A callback whose signature, timestamp or encrypted resource does not verify."""

    code = "invalid_signature"
    status = 401
    title = "Signature verification failed"
