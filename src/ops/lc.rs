//! `udo lc …`: launch templates, launch configurations and their cloud-init scripts.

use crate::cloudinit;
use crate::context::Ctx;
use crate::error::Result;
use crate::target;

/// Prints the user data exactly as udo would send it. Needs no credentials and no network.
pub fn cloudinit(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let region = ctx.region_of(role)?;
    print!("{}", cloudinit::render(role, &region));
    Ok(())
}
