"""Compares a Slither JSON report with the checked-in triage (contracts/slither-triage.json).

A finding is identified by its detector and the qualified name of its first element (for example
`reentrancy-no-eth JobManager.declineJob(uint256,uint8)`), which survives edits that only move lines. The
triage lists each known finding with a verdict (`false-positive`, `accepted` or `fixed-elsewhere`) and a
reason. Exit 1 when a High or Medium finding is not in the triage.

Usage: slither-triage.py REPORT TRIAGE [--write]   (--write: print a triage skeleton for every finding)
"""

import json
import sys


def qualified(element):
    """Contract.function(sig) or Contract.function(sig).variable, from the element's parents."""
    name = element.get("name", "?")
    fields = element.get("type_specific_fields", {})
    if element.get("type") == "function" and fields.get("signature"):
        name = fields["signature"]
    parent = fields.get("parent")
    while parent:
        pfields = parent.get("type_specific_fields", {})
        pname = pfields.get("signature") if parent.get("type") == "function" else None
        name = f"{pname or parent.get('name', '?')}.{name}"
        parent = pfields.get("parent")
    return name


def key(result):
    elements = result.get("elements") or [{}]
    return f"{result['check']} {qualified(elements[0])}"


def main():
    report, triage_path = sys.argv[1], sys.argv[2]
    results = json.load(open(report))["results"].get("detectors", [])
    triage = {t["finding"]: t for t in json.load(open(triage_path))["findings"]}
    if "--write" in sys.argv:
        skeleton = [
            {"finding": key(r), "impact": r["impact"], "verdict": "", "reason": ""}
            for r in results
        ]
        print(json.dumps({"findings": skeleton}, indent=2))
        return 0
    new_serious = 0
    seen = set()
    order = {"High": 0, "Medium": 1, "Low": 2, "Informational": 3, "Optimization": 4}
    for r in sorted(results, key=lambda r: (order.get(r["impact"], 9), key(r))):
        k = key(r)
        seen.add(k)
        known = triage.get(k)
        if known:
            print(f"  {r['impact']:<13} {known['verdict']:<16} {k}")
        else:
            serious = r["impact"] in ("High", "Medium")
            new_serious += serious
            print(f"{'!!' if serious else ' +'} {r['impact']:<13} {'NEW':<16} {k}")
            print("     " + r["description"].strip().splitlines()[0])
    for k in sorted(set(triage) - seen):
        print(f"  (triaged, no longer reported: {k})")
    print(f"slither: {len(results)} findings, {len(results) - sum(1 for r in results if key(r) not in triage)} "
          f"triaged, {new_serious} new High/Medium")
    return 1 if new_serious else 0


if __name__ == "__main__":
    sys.exit(main())
