"""A small, condition-aware evaluator of identity-based IAM policies, for tests only.

The emulator (moto) judges actions and ignores resources and conditions, so it
cannot show whether docs/iam-policy.json's tag conditions hold. This evaluator
decides one authorization (action, resource ARN, request context) the way AWS
documents it for a single principal's identity policies:

- explicit Deny wins over any Allow; no matching Allow is an implicit deny
  (IAM User Guide, "The difference between explicit and implicit denies");
- Action and Resource match with `*` and `?` wildcards, actions case-insensitively;
- within a Condition block every operator must hold, within an operator every
  key must hold, and a key holds when the request value matches any policy value
  (for the negated operators: matches none);
- a key missing from the request context makes a condition false, except for the
  negated operators (true), `...IfExists` (true) and `Null`, which tests presence;
- `ForAllValues:` holds when every request value matches (also when the key is
  missing or empty); `ForAnyValue:` when at least one does.

Not modelled, and refused where a policy uses them so no test silently passes:
policy variables (`${...}`), Principal/NotPrincipal, numeric/date/IP operators,
resource-based policies, permission boundaries, SCPs and session policies.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
ContextValue = str | bool | Sequence[str]

_STRING_OPS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}
_LIKE_OPS = {"StringLike", "StringNotLike", "ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals"}
_SUPPORTED = _STRING_OPS | _LIKE_OPS | {"Bool", "Null"}


class UnsupportedPolicy(ValueError):
    """The policy uses something this evaluator does not model."""


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: an API call may make several (one per resource)."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _glob(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    if "${" in pattern:
        raise UnsupportedPolicy(f"policy variables are not modelled: {pattern!r}")
    # fnmatch treats [..] as a class; IAM has no such syntax, so escape it first.
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.fullmatch(regex, text, re.IGNORECASE if ignore_case else 0) is not None


def _arn_like(pattern: str, arn: str) -> bool:
    # ArnLike compares each of the six colon-separated parts on its own, so a `*`
    # in one part never swallows a colon (IAM User Guide, ARN condition operators).
    p_parts, a_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return False
    return all(_glob(p, a) for p, a in zip(p_parts, a_parts, strict=True))


def _value_matches(base: str, policy_value: str, request_value: str) -> bool:
    if "${" in policy_value:
        raise UnsupportedPolicy(f"policy variables are not modelled: {policy_value!r}")
    if base in {"StringEquals", "StringNotEquals"}:
        return policy_value == request_value
    if base in {"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}:
        return policy_value.lower() == request_value.lower()
    if base in {"StringLike", "StringNotLike"}:
        return _glob(policy_value, request_value)
    if base in {"ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals"}:
        return _arn_like(policy_value, request_value)
    if base == "Bool":
        return policy_value.lower() == request_value.lower()
    raise UnsupportedPolicy(f"condition operator {base} is not modelled")


def _lookup(context: Mapping[str, ContextValue], key: str) -> ContextValue | None:
    # Condition key names are case-insensitive (IAM User Guide, Condition element).
    for name, value in context.items():
        if name.lower() == key.lower():
            return value
    return None


def _key_holds(operator: str, key: str, policy_values: list[Any], context: Mapping[str, ContextValue]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _SUPPORTED:
        raise UnsupportedPolicy(f"condition operator {operator} is not modelled")
    negated = "Not" in base
    value = _lookup(context, key)
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in policy_values]

    if base == "Null":
        # "true": the key must be absent; "false": present and not empty.
        absent = value is None or (isinstance(value, list | tuple) and len(value) == 0)
        return any((v.lower() == "true") == absent for v in values)

    if qualifier:
        if qualifier not in {"ForAllValues", "ForAnyValue"}:
            raise UnsupportedPolicy(f"set operator {qualifier} is not modelled")
        items = [] if value is None else [str(v) for v in _as_list(value)]
        if not isinstance(value, list | tuple | type(None)):
            raise UnsupportedPolicy(f"{qualifier} used on the single-valued key {key}")

        def one(item: str) -> bool:
            hit = any(_value_matches(base, v, item) for v in values)
            return not hit if negated else hit

        if qualifier == "ForAllValues":
            return all(one(item) for item in items)
        return any(one(item) for item in items)

    if value is None:
        return if_exists or negated
    if isinstance(value, list | tuple):
        raise UnsupportedPolicy(f"the multivalued key {key} needs ForAllValues or ForAnyValue")
    request_value = str(value).lower() if isinstance(value, bool) else str(value)
    hit = any(_value_matches(base, v, request_value) for v in values)
    return not hit if negated else hit


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, ContextValue]) -> bool:
    return all(
        _key_holds(operator, key, _as_list(wanted), context)
        for operator, keys in condition.items()
        for key, wanted in keys.items()
    )


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_glob(p, action, ignore_case=True) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(p == "*" or _arn_like(p, resource) for p in patterns)


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy("Principal belongs to resource-based policies, which are not modelled")
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), request.action):
            return False
    elif _action_matches(_as_list(statement["NotAction"]), request.action):
        return False
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), request.resource):
            return False
    elif _resource_matches(_as_list(statement["NotResource"]), request.resource):
        return False
    return condition_holds(statement.get("Condition", {}), request.context)


def evaluate(policies: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    statements = [st for policy in policies for st in _as_list(policy["Statement"])]
    applying = [st for st in statements if statement_applies(st, request)]
    if any(st["Effect"] == "Deny" for st in applying):
        return "ExplicitDeny"
    if any(st["Effect"] == "Allow" for st in applying):
        return "Allow"
    return "ImplicitDeny"


def evaluate_all(policies: Iterable[Mapping[str, Any]], requests: Iterable[Request]) -> Decision:
    """An API call that AWS authorizes resource by resource: allowed only if each one is."""
    policies = list(policies)
    decisions = [evaluate(policies, r) for r in requests]
    if "ExplicitDeny" in decisions:
        return "ExplicitDeny"
    if "ImplicitDeny" in decisions:
        return "ImplicitDeny"
    return "Allow"
