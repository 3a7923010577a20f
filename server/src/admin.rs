//! The operator's commands, run against the same database as the server.

use anyhow::bail;
use app::auth::{two_factor, Services};

use crate::config::AdminCommand;

pub async fn run(services: &Services, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::ResetTwoFactor { email } => {
            match two_factor::admin_reset(services, &email).await {
                Ok(Some(ended)) => {
                    println!(
                    "Two-factor authentication is now off for {email}, and its recovery codes are deleted. \
                     {ended} session(s) ended. They can sign in with their password and enable it again."
                );
                    Ok(())
                }
                Ok(None) => bail!("there is no account with the email {email}"),
                Err(err) => bail!("{err}"),
            }
        }
    }
}
