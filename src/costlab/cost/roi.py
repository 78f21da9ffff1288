"""ROI of a cost optimization: payback month, 12-month and 3-year ROI.

The seed's ROICalculator divided by the implementation cost and by the monthly savings unguarded. Here:
- zero implementation cost with positive savings → payback at month 0, ROI reported as null with the reason
  ("no upfront cost") instead of a ZeroDivisionError or a fake infinity;
- savings ≤ maintenance (net ≤ 0) → "never pays back" (payback null) and a negative or zero ROI, not a negative
  payback month;
- zero current cost → savings percentage null (there is no bill to cut);
- negative, non-finite or absurd inputs → CostlabError naming the input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from costlab.errors import CostlabError

MAX_USD = 1e12  # a monthly bill or project cost above this is a typo


@dataclass(frozen=True)
class RoiInputs:
    current_monthly_cost: float  # what you pay now per month
    optimized_monthly_cost: float  # per month after the change (model swap, caching, self-hosting...)
    implementation_cost: float = 0.0  # one-off: engineering time, setup, hardware
    monthly_maintenance: float = 0.0  # recurring overhead the change adds (ops time, monitoring)

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise CostlabError(f"roi: {k} must be a finite number, got {v!r}")
            if v < 0:
                raise CostlabError(f"roi: {k} = {v} is negative", f"{k} is a cost in USD, ≥ 0")
            if v > MAX_USD:
                raise CostlabError(f"roi: {k} = {v:g} is absurd (> {MAX_USD:g} USD)", "check the units (USD)")


def _roi_pct(net_monthly: float, impl: float, months: int) -> tuple[float | None, str | None]:
    gain = net_monthly * months
    if impl == 0:
        if gain > 0:
            return None, "no upfront cost: ROI is unbounded (every dollar saved is pure return)"
        return None, "no upfront cost and no net savings: ROI undefined"
    return (gain - impl) / impl * 100.0, None


def optimization_roi(inp: RoiInputs, horizons: tuple[int, ...] = (12, 36)) -> dict[str, Any]:
    cur, opt = inp.current_monthly_cost, inp.optimized_monthly_cost
    impl, maint = inp.implementation_cost, inp.monthly_maintenance
    savings = cur - opt
    net = savings - maint
    out: dict[str, Any] = {
        "inputs": asdict(inp),
        "monthly_savings": savings,
        "net_monthly_savings": net,
        "savings_pct": None if cur == 0 else savings / cur * 100.0,
        "notes": [],
    }
    if cur == 0:
        out["notes"].append("current cost is 0: savings percentage undefined")
    if net <= 0:
        out["payback_months"] = None
        out["payback_month"] = None
        out["pays_back"] = False
        out["notes"].append(
            "never pays back: net monthly savings ≤ 0 "
            f"(savings {savings:.2f} − maintenance {maint:.2f} = {net:.2f} USD/month)"
        )
    else:
        out["payback_months"] = impl / net
        out["payback_month"] = math.ceil(impl / net) if impl > 0 else 0  # first month the cumulative net ≥ impl
        out["pays_back"] = True
    for h in horizons:
        pct, why = _roi_pct(net, impl, h)
        key = f"roi_{h}m_pct"
        out[key] = pct
        out[f"net_gain_{h}m"] = net * h - impl
        if why and why not in out["notes"]:
            out["notes"].append(why)
    # the aliases the seed's output used
    out["roi_12_month_pct"] = out.get("roi_12m_pct")
    out["roi_3_year_pct"] = out.get("roi_36m_pct")
    out["cumulative_net"] = [round(net * m - impl, 2) for m in range(0, max(horizons) + 1)]
    return out
