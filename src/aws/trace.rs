//! An SDK interceptor that, with `-v`, prints one line per AWS call: service, operation,
//! duration, attempts and outcome. It never prints requests or
//! credentials. Tests count these lines to hold commands to their API-call budgets.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Tracer {
    verbose: bool,
}

#[derive(Debug, Clone)]
struct Started(Instant);
impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone)]
struct Attempts(u32);
impl Storable for Attempts {
    type Storer = StoreReplace<Self>;
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

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let n = cfg.load::<Attempts>().map_or(0, |a| a.0);
        cfg.interceptor_state().store_put(Attempts(n + 1));
        Ok(())
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
            let ms = cfg
                .load::<Started>()
                .map_or(0, |s| s.0.elapsed().as_millis());
            let attempts = cfg.load::<Attempts>().map_or(0, |a| a.0);
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
