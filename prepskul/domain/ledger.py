"""The ledger's rules, in whole XAF: which accounts exist, and what a well-formed movement
of money between them is. Pure: the database enforces the same rules again (a balanced
transaction, no balance below zero except the outside world's), so a bug here cannot
write a ledger that does not add up.

Sign convention: an entry's amount is what the account *receives* (negative: what it gives).
Every account holds money for someone and never goes below zero, except `outside` — the
world beyond our Fapshi services — whose balance is minus what the platform holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from prepskul.domain.errors import InvalidInput


class AccountKind(StrEnum):
    OUTSIDE = "outside"  # platform-wide: money in from payers, out to phones
    CLEARING = "clearing"  # per session: paid for a lesson not settled yet
    REVENUE = "revenue"  # platform-wide: commission and kept shares
    TUTOR_PENDING = "tutor_pending"  # per tutor: earned, inside the quality hold
    TUTOR_AVAILABLE = "tutor_available"  # per tutor: may be withdrawn
    RESERVED = "reserved"  # per payout: asked for, not sent yet
    IN_FLIGHT = "in_flight"  # per payout: sent to Fapshi, not confirmed yet
    CREDIT = "credit"  # per payer: PrepSkul credit, pays the next sessions
    REFUND_OWED = "refund_owed"  # per payment: money an operator must settle


PLATFORM_WIDE = frozenset({AccountKind.OUTSIDE, AccountKind.REVENUE})
# A person's own money: its owner sees each change to it live (and only they, and operators).
PERSONAL = (AccountKind.CREDIT, AccountKind.TUTOR_PENDING, AccountKind.TUTOR_AVAILABLE)
MAY_GO_NEGATIVE = frozenset({AccountKind.OUTSIDE})


@dataclass(frozen=True)
class Account:
    kind: AccountKind
    owner: uuid.UUID | None = None

    def __post_init__(self) -> None:
        platform = self.kind in PLATFORM_WIDE
        if (self.owner is None) != platform:
            raise ValueError(f"{self.kind} accounts {'have no' if platform else 'need an'} owner")


OUTSIDE = Account(AccountKind.OUTSIDE)
REVENUE = Account(AccountKind.REVENUE)


@dataclass(frozen=True)
class Entry:
    account: Account
    amount: int


@dataclass(frozen=True)
class Movement:
    """One balanced ledger transaction. `key` makes it idempotent: the same cause (a
    resent webhook, a retried job) never posts twice."""

    key: str
    kind: str
    entries: tuple[Entry, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        check_balanced(self.entries)


def check_balanced(entries: tuple[Entry, ...]) -> None:
    if len(entries) < 2:
        raise ValueError("a ledger transaction moves money between at least two accounts")
    for e in entries:
        if not isinstance(e.amount, int) or isinstance(e.amount, bool) or e.amount == 0:
            raise ValueError(f"entry amounts are non-zero whole francs, not {e.amount!r}")
    if sum(e.amount for e in entries) != 0:
        raise ValueError("a ledger transaction's entries sum to zero")


def transfer(
    key: str, kind: str, source: Account, targets: dict[Account, int], memo: str = ""
) -> Movement | None:
    """Move money from one account to several; zero shares are left out. None when nothing
    moves at all."""
    shares = {a: n for a, n in targets.items() if n}
    if any(n < 0 for n in shares.values()):
        raise ValueError("a transfer's shares are not negative")
    total = sum(shares.values())
    if total == 0:
        return None
    entries = (Entry(source, -total), *(Entry(a, n) for a, n in shares.items()))
    return Movement(key, kind, entries, memo)


def positive_amount(amount: int) -> int:
    if amount <= 0:
        raise InvalidInput("invalid_amount", "Give an amount of at least 1 XAF.")
    return amount
