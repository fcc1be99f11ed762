//! An SDK interceptor that, with `-v`, prints one line per AWS call: service, operation,
//! duration, attempts and outcome. It never prints requests or
//! credentials. Tests count these lines to hold commands to their API-call budgets.
//!
//! It keeps no bookkeeping of its own: the call's start and its attempts are the record that
//! `retry::Patience`, registered before it on every client, writes (`retry::Call`).

use super::retry::Call;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Debug, Clone)]
pub struct Tracer {
    verbose: bool,
}

impl Tracer {
    pub fn new(verbose: bool) -> Tracer {
        Tracer { verbose }
    }
}

impl Intercept for Tracer {
    fn name(&self) -> &'static str {
        "udo-trace"
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.verbose {
            let (service, op) = cfg
                .load::<Metadata>()
                .map(|m| (m.service().replace(' ', ""), m.name().to_string()))
                .unwrap_or_else(|| ("?".into(), "?".into()));
            let call = Call::of(cfg);
            let ms = call.map_or(0, |c| c.started.elapsed().as_millis());
            let attempts = call.map_or(0, |c| c.attempts);
            let outcome = match ctx.output_or_error() {
                Some(Ok(_)) => "ok".to_string(),
                Some(Err(_)) => match ctx.response() {
                    Some(r) => format!("error (HTTP {})", r.status().as_u16()),
                    None => "error (no response)".to_string(),
                },
                None => "unknown".to_string(),
            };
            eprintln!("aws: {service} {op} {ms}ms attempts={attempts} {outcome}");
        }
        Ok(())
    }
}
