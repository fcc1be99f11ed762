//! `udo whoami`: the account, identity and region udo would act on.

use crate::aws;
use crate::context::Ctx;
use crate::error::Result;
use serde_json::json;

pub async fn run(ctx: &Ctx) -> Result<()> {
    let top_region = ctx.config.top.str("region");
    let region = ctx.region(top_region)?;
    let aws_ctx = ctx.aws().await;
    let clients = aws_ctx.clients(&region);
    let id = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws::error("asking STS who we are", e))?;
    let account = id.account().unwrap_or("?");
    let arn = id.arn().unwrap_or("?");
    let endpoint = aws_ctx.endpoint().unwrap_or("AWS");
    if ctx.out.json() {
        ctx.out.print_json(
            &json!({"account": account, "arn": arn, "region": region, "endpoint": endpoint}),
        );
    } else {
        println!("account   {account}\nidentity  {arn}\nregion    {region}\nendpoint  {endpoint}");
    }
    Ok(())
}
