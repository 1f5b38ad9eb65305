"""The duty roster over HTTP: admins set a unit's shifts (a bad one changes
nothing, with its shift and key named); the unit itself and auditors read them;
other units and branches are refused."""

from __future__ import annotations

import httpx

SHIFTS: list[dict[str, object]] = [
    {"from": "08:00", "to": "20:00", "name": "王警官", "phone": "13800000001"},
    {"days": ["sat", "sun"], "from": "20:00", "to": "08:00", "name": "张警官", "email": "z@p.cn"},
]


async def test_admins_set_a_roster_and_the_unit_reads_it(
    api_url: str, tokens: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:

        def by(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[role]}"}

        done = await http.put("/roster/police", json={"shifts": SHIFTS}, headers=by("admin"))
        assert done.status_code == 200, done.text
        assert [s["name"] for s in done.json()["shifts"]] == ["王警官", "张警官"]
        assert done.json()["shifts"][1]["days"] == ["sat", "sun"]
        for role in ("police", "auditor", "admin"):
            read = await http.get("/roster/police", headers=by(role))
            assert read.status_code == 200 and read.json() == done.json()
        for role in ("fire", "branch"):
            assert (await http.get("/roster/police", headers=by(role))).status_code == 403
        refused = await http.put("/roster/police", json={"shifts": SHIFTS}, headers=by("police"))
        assert refused.status_code == 403
        bad = [SHIFTS[0], {**SHIFTS[1], "from": "8pm"}]
        wrong = await http.put("/roster/police", json={"shifts": bad}, headers=by("admin"))
        assert wrong.status_code == 422
        assert "shift 2: from: must be a time of day such as 08:00" in wrong.text
        kept = await http.get("/roster/police", headers=by("admin"))
        assert kept.json() == done.json()  # nothing changed
        cleared = await http.put("/roster/police", json={"shifts": []}, headers=by("admin"))
        assert cleared.status_code == 200 and cleared.json()["shifts"] == []
        assert (await http.get("/roster/Not-A-Code", headers=by("admin"))).status_code == 422
