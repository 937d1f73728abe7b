"""Version logic for julia_build: tag resolution and the compiler check.

Pure Python, so pytest imports it straight from the role.
"""

from __future__ import annotations

import re

STABLE_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
ANY_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.]+)?$")


def _key(tag):
    return tuple(int(x) for x in ANY_TAG.match(tag).groups())


def julia_build_tags(ls_remote_output):
    """Tag names from `git ls-remote --tags URL` (peeled ^{} entries dropped)."""
    tags = []
    for line in (ls_remote_output or "").splitlines():
        parts = line.split("\t")
        if len(parts) != 2 or not parts[1].startswith("refs/tags/") or parts[1].endswith("^{}"):
            continue
        tags.append(parts[1][len("refs/tags/") :])
    return sorted(set(tags))


def julia_build_resolve(tags, requested):
    """{'tag': ..., 'error': None} or {'tag': None, 'error': message naming the nearest real tags}."""
    if requested == "latest-stable":
        stable = [t for t in tags if STABLE_TAG.match(t)]
        if not stable:
            return {"tag": None, "error": "julia_build_version=latest-stable: the repository has no vX.Y.Z tag"}
        return {"tag": max(stable, key=_key), "error": None}
    if requested in tags:
        return {"tag": requested, "error": None}
    versioned = [t for t in tags if ANY_TAG.match(t)]
    match = ANY_TAG.match(requested) or re.match(r"^v?(\d+)\.(\d+)\.(\d+)", requested)
    if match and versioned:
        want = tuple(int(x) for x in match.groups()[:3])
        nearest = sorted(
            versioned, key=lambda t: (sum(abs(a - b) * w for a, b, w in zip(_key(t), want, (10000, 100, 1))), t)
        )[:3]
    else:
        nearest = sorted((t for t in versioned if STABLE_TAG.match(t)), key=_key)[-3:]
    return {
        "tag": None,
        "error": f"julia_build_version={requested} is not a tag of the repository; nearest real tags: "
        + (", ".join(nearest) if nearest else "none")
        + "; accepted: an existing tag like v0.5.0, or latest-stable",
    }


def julia_build_gcc_range(tag, table):
    """The table row whose Julia range holds this tag."""
    version = _key(tag) if ANY_TAG.match(tag) else None
    for row in table:
        low = tuple(int(x) for x in str(row["julia_min"]).split("."))
        high = tuple(int(x) for x in str(row["julia_below"]).split(".")) if row.get("julia_below") else None
        if version is not None and version[: len(low)] >= low and (high is None or version[: len(high)] < high):
            return row
    return None


def julia_build_gcc_check(tag, gcc_version, table):
    """None when the compiler fits, else the refusal message."""
    row = julia_build_gcc_range(tag, table)
    if row is None or not gcc_version:
        return None
    have = tuple(int(x) for x in re.findall(r"\d+", str(gcc_version))[:2])
    low = tuple(int(x) for x in str(row["gcc_min"]).split("."))
    high = int(row["gcc_max_major"]) if row.get("gcc_max_major") else None
    if have[: len(low)] >= low and (high is None or have[0] <= high):
        return None
    span = f"{row['gcc_min']}" + (f" to {row['gcc_max_major']}.x" if high else " or newer")
    return (
        f"Julia {tag} builds with GCC {span}, and this host has GCC {gcc_version}. {row['advice']} "
        f"(source: {row['source']}). Or set julia_build_allow_unsupported_gcc: true to try anyway."
    )


# A Make.user value is pasted into a makefile: $ expands (even $(shell ...)), a
# trailing backslash joins the next line, # starts a comment. Only plain words
# pass (; stays: JULIA_CPU_TARGET lists targets with it).
MAKE_VALUE = re.compile(r"^[A-Za-z0-9 .,;_+=/:@%-]*\Z")


def julia_build_make_user_refusal(make_user):
    """None, or a one-line refusal naming the first Make.user entry make would not take literally."""
    for key, value in sorted((make_user or {}).items()):
        text = str(value)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not MAKE_VALUE.match(text):
            return (
                f"julia_build_make_user: {key}={text!r} is not a plain value; accepted: letters, digits, spaces"
                " and . , ; _ + = / : @ % - (no $, backslash, #, quotes or backquotes)"
            )
    return None


def julia_build_official_repo(url, official_repos):
    """Whether url names the official repository (vars/julia_commits.yml's official_repos).

    Compared without trailing slashes and a trailing .git, so the clone URL's usual
    spellings all match.
    """
    bare = re.sub(r"\.git\Z", "", str(url or "").rstrip("/"))
    return bare in (official_repos or [])


def julia_build_deps_full_url(release, method, override, official):
    """The -full tarball a git-tag build takes its dependency sources from, or "" for none.

    Only a source build of a tag whose dependency hosts are gone (git.deps_reachable false)
    and whose row says the -full tarball holds its dependency sources (git.deps_from:
    source_full) is seeded: from override (julia_build_source_full_url) when given, else
    from the table's URL for the official repository; a mirror or local repository brings
    its own sources.
    """
    release = release or {}
    git = release.get("git") or {}
    if method != "source" or git.get("deps_reachable", True) is not False or git.get("deps_from") != "source_full":
        return ""
    if override:
        return str(override)
    return str((release.get("source_full") or {}).get("url") or "") if official else ""


class FilterModule:
    def filters(self):
        return {
            "julia_build_make_user_refusal": julia_build_make_user_refusal,
            "julia_build_tags": julia_build_tags,
            "julia_build_resolve": julia_build_resolve,
            "julia_build_gcc_check": julia_build_gcc_check,
            "julia_build_gcc_range": julia_build_gcc_range,
            "julia_build_deps_full_url": julia_build_deps_full_url,
            "julia_build_official_repo": julia_build_official_repo,
        }
