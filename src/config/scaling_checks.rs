//! Checks of a role's merged `schedule` and `scaling_policies` entries that no single value's
//! kind can make: a recurrence and a size per schedule entry, sizes that fit, a metric and a
//! target per policy, a target group for `alb_requests`.

use super::Role;
use super::diag::Diagnostic;
use super::merge::Settings;

/// Checks that need a role's merged entries: a recurrence and at least one size per schedule
/// entry, sizes that fit, a metric and target per policy, a target group for `alb_requests`.
pub fn check_role(role: &Role) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let s = &role.settings;
    let at = |e: &Settings| e.leaf("name").map_or(role.span, |l| l.origin.span);
    for e in s.named("schedule") {
        let name = e.str("name").unwrap_or_default();
        if e.str("recurrence").is_none() {
            out.push(
                Diagnostic::at(
                    at(&e),
                    format!(
                        "schedule entry `{name}` of `{}` has no `recurrence`",
                        role.target()
                    ),
                )
                .help("add `recurrence: \"0 20 * * MON-FRI\"` (minute hour day-of-month month day-of-week)"),
            );
        }
        let (min, max, desired) = (e.int("min_size"), e.int("max_size"), e.int("desired"));
        if min.is_none() && max.is_none() && desired.is_none() {
            out.push(
                Diagnostic::at(
                    at(&e),
                    format!(
                        "schedule entry `{name}` of `{}` sets no size",
                        role.target()
                    ),
                )
                .help("give it at least one of `min_size`, `max_size` and `desired`"),
            );
        }
        for (lo, hi, lo_name, hi_name) in [
            (min, max, "min_size", "max_size"),
            (min, desired, "min_size", "desired"),
            (desired, max, "desired", "max_size"),
        ] {
            if let (Some(a), Some(b)) = (lo, hi)
                && a > b
            {
                out.push(
                    Diagnostic::at(
                        at(&e),
                        format!("schedule entry `{name}` of `{}` has {lo_name} {a} greater than {hi_name} {b}", role.target()),
                    )
                    .help("a scheduled action needs min_size <= desired <= max_size"),
                );
            }
        }
    }
    for e in s.named("scaling_policies") {
        let name = e.str("name").unwrap_or_default();
        for key in ["metric", "target"] {
            if e.str(key).is_none() {
                out.push(
                    Diagnostic::at(
                        at(&e),
                        format!(
                            "scaling policy `{name}` of `{}` has no `{key}`",
                            role.target()
                        ),
                    )
                    .help("a target tracking policy needs `metric` (cpu, alb_requests, network_in, network_out) and `target`"),
                );
            }
        }
        if e.str("metric") == Some("cpu")
            && let Some(t) = e.leaf("target")
            && t.text.parse::<f64>().is_ok_and(|v| v > 100.0)
        {
            out.push(
                Diagnostic::at(
                    t.origin.span,
                    format!("scaling policy `{name}` targets {}% CPU", t.text),
                )
                .help("a CPU target is a percentage: use a number up to 100"),
            );
        }
        if e.str("metric") == Some("alb_requests") && s.list("target_groups").is_empty() {
            let span = e.leaf("metric").map_or(at(&e), |l| l.origin.span);
            out.push(
                Diagnostic::at(
                    span,
                    format!(
                        "scaling policy `{name}` tracks alb_requests, but `{}` has no target group",
                        role.target()
                    ),
                )
                .help("add the role's target group to `target_groups`, or track another metric"),
            );
        }
    }
    out
}
