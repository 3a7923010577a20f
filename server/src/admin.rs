//! The operator's commands, run against the same database as the server.

use anyhow::{bail, Context};
use app::auth::{
    flows::two_factor_policy::{self, Required},
    guards::server_key,
    services::Services,
};

use crate::config::AdminCommand;
use app::auth::flows::admin;

pub async fn run(services: &Services, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::ResetTwoFactor { email } => {
            match admin::admin_reset(services, &email).await {
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
        AdminCommand::RequireTwoFactor { email } => {
            match two_factor_policy::require_for_account(services, &email).await {
                Ok(Some(Required::Now {
                    has_second_factor: true,
                })) => println!(
                    "Two-factor authentication is now required for {email}. It is on, and can no longer be turned off."
                ),
                Ok(Some(Required::Now {
                    has_second_factor: false,
                })) => println!(
                    "Two-factor authentication is now required for {email}. Until it is set up, \
                     signing in leads only to Settings → Two-Factor Auth."
                ),
                Ok(Some(Required::Already)) => {
                    println!("Two-factor authentication was already required for {email}.")
                }
                Ok(None) => bail!("there is no account with the email {email}"),
                Err(err) => bail!("{err}"),
            }
            Ok(())
        }
        AdminCommand::Clients => {
            print!("{}", clients_listing(services));
            Ok(())
        }
        AdminCommand::RotateKey { new_file } => {
            let new_master = crate::keyfile::load_or_create_new(&new_file)?;
            let rotated =
                server_key::rotate(&services.db, &services.keys, &new_master, &*services.random)
                    .await
                    .context("rotating the server key")?;
            println!(
                "Re-sealed {} TOTP secret(s), {} pending setup(s) and {} set(s) of waiting codes \
                 under the key in {}. Start every instance with --secret-key-file {} now; \
                 the old key no longer opens this database.",
                rotated.secrets,
                rotated.enrollments,
                rotated.handoffs,
                new_file.display(),
                new_file.display()
            );
            Ok(())
        }
    }
}

/// What `server admin clients` prints: each client, whether it holds a secret, and where
/// it may send people back. The secret itself is never read back.
fn clients_listing(services: &Services) -> String {
    let mut out = String::new();
    if services.clients.iter().next().is_none() {
        out.push_str("No clients are configured: add [[clients]] to the --config file.\n");
    }
    for client in services.clients.iter() {
        let kind = if client.is_public() {
            "public (PKCE only)"
        } else {
            "confidential (client secret)"
        };
        out.push_str(&format!("{}  \"{}\"  {kind}\n", client.id, client.name));
        if client.require_two_factor {
            out.push_str("  requires two-factor authentication\n");
        }
        for uri in &client.redirect_uris {
            out.push_str(&format!("  redirect: {uri}\n"));
        }
        for uri in &client.post_logout_redirect_uris {
            out.push_str(&format!("  after logout: {uri}\n"));
        }
    }
    out
}
