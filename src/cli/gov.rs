//! `accord gov …`: parameter changes through the governor and the timelock.

use alloy::primitives::{Address, Bytes, U256};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::GlobalArgs;
use super::session::{Session, api_get, emit, lines};
use crate::chain::evm::ops::{self, Proposal};
use crate::chain::evm::wallet::SignerArgs;

/// Governance.
#[derive(Debug, Subcommand)]
pub enum GovCommand {
    /// Delegate the signer's voting power (to itself by default); votes count from the next block.
    Delegate {
        /// Delegate to this address instead of the signer.
        #[arg(long)]
        to: Option<String>,
        /// How to sign.
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Propose parameter changes, e.g. `--set minStake=150`.
    Propose {
        /// `key=value` (repeatable): minStake (tokens), unbondingPeriod, assignmentTimeout, challengeWindow,
        /// disputePeriod, minSubmitWindow (durations: 90s, 2h, 9d), protocolFeeBps, slashShareBps,
        /// slashRewardMultipleBps, compensationBps, declineFeeBps, disputeBondBps (basis points).
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        /// The proposal's description (part of its id).
        #[arg(long)]
        description: String,
        /// How to sign.
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Vote on a proposal.
    Vote {
        /// Proposal id.
        id: String,
        /// For, against or abstain.
        #[arg(long, value_enum, default_value_t = Support::For)]
        support: Support,
        /// How to sign.
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Queue a succeeded proposal in the timelock.
    Queue(ProposalAction),
    /// Execute a queued proposal after the timelock delay.
    Execute(ProposalAction),
    /// Show a proposal with its state and tallies (from the API).
    Show {
        /// Proposal id.
        id: String,
    },
}

/// A vote's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Support {
    /// 0.
    Against,
    /// 1.
    For,
    /// 2.
    Abstain,
}

/// A proposal id and a signer.
#[derive(Debug, Args)]
pub struct ProposalAction {
    /// Proposal id.
    pub id: String,
    /// How to sign.
    #[command(flatten)]
    pub signer: SignerArgs,
}

fn proposal_id(raw: &str) -> anyhow::Result<U256> {
    raw.parse()
        .map_err(|_| anyhow::anyhow!("proposal id '{raw}' is not an unsigned integer"))
}

/// Parses `key=value` into the parameter's value in contract units.
pub fn parse_setting(raw: &str) -> anyhow::Result<(String, U256)> {
    let (key, value) = raw
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--set '{raw}' is not key=value"))?;
    let value = match key {
        "minStake" => ops::parse_tokens(value)?,
        "unbondingPeriod" | "assignmentTimeout" | "challengeWindow" | "disputePeriod"
        | "minSubmitWindow" => U256::from(ops::parse_duration(value)?.as_secs()),
        _ => value
            .parse::<U256>()
            .map_err(|_| anyhow::anyhow!("--set {key}: '{value}' is not an integer"))?,
    };
    Ok((key.to_owned(), value))
}

/// The proposal as indexed, rebuilt for queue and execute.
async fn indexed_proposal(s: &Session, id: U256) -> anyhow::Result<Proposal> {
    let body = api_get(&s.http, &s.api_url, &format!("/v1/proposals/{id}")).await?;
    let p = &body["proposal"];
    let p = if p.is_null() { &body } else { p };
    let strings = |k: &str| -> Vec<String> {
        p[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let targets = strings("targets")
        .iter()
        .map(|t| t.parse::<Address>())
        .collect::<Result<Vec<_>, _>>()?;
    let calldatas = strings("calldatas")
        .iter()
        .map(|c| c.parse::<Bytes>())
        .collect::<Result<Vec<_>, _>>()?;
    let proposal = Proposal {
        targets,
        calldatas,
        description: p["description"].as_str().unwrap_or_default().to_owned(),
    };
    if proposal.id() != id {
        anyhow::bail!("the indexed proposal does not hash to id {id}; is the index current?");
    }
    Ok(proposal)
}

/// Queues (`queue`) or executes (`execute`) the indexed proposal `a.id`.
async fn timelock_step(a: ProposalAction, global: &GlobalArgs, action: &str) -> anyhow::Result<()> {
    let id = proposal_id(&a.id)?;
    let s = Session::open(global, &a.signer).await?;
    let p = indexed_proposal(&s, id).await?;
    let receipt = if action == "queue" {
        ops::queue(&s.sender, &s.deployment, &p).await?
    } else {
        ops::execute(&s.sender, &s.deployment, &p).await?
    };
    let tx = format!("{:#x}", receipt.transaction_hash);
    emit(
        global.output,
        &json!({"proposal_id": id.to_string(), "action": action, "tx": tx}),
        || format!("proposal {id}: {action} sent in {tx}"),
    );
    Ok(())
}

/// Runs a governance command.
pub async fn run(cmd: GovCommand, global: &GlobalArgs) -> anyhow::Result<()> {
    match cmd {
        GovCommand::Delegate { to, signer } => {
            let to = to
                .map(|t| t.parse::<Address>())
                .transpose()
                .map_err(|_| anyhow::anyhow!("--to is not an address"))?;
            let s = Session::open(global, &signer).await?;
            let receipt = ops::delegate(&s.sender, &s.deployment, to).await?;
            let delegatee = format!("{:#x}", to.unwrap_or(s.sender.address()));
            emit(
                global.output,
                &json!({"delegatee": delegatee, "tx": receipt.as_ref().map(|r| format!("{:#x}", r.transaction_hash))}),
                || match &receipt {
                    Some(r) => format!(
                        "votes delegated to {delegatee} in {:#x}",
                        r.transaction_hash
                    ),
                    None => format!("votes were already delegated to {delegatee}"),
                },
            );
            Ok(())
        }
        GovCommand::Propose {
            set,
            description,
            signer,
        } => {
            let settings = set
                .iter()
                .map(|s| parse_setting(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if description.trim().is_empty() {
                anyhow::bail!("--description must not be empty");
            }
            let s = Session::open(global, &signer).await?;
            let mut proposal = Proposal {
                targets: Vec::new(),
                calldatas: Vec::new(),
                description,
            };
            for (key, value) in &settings {
                let (target, data) = ops::param_call(&s.deployment, key, *value)?;
                proposal.targets.push(target);
                proposal.calldatas.push(data);
            }
            let id = ops::propose(&s.sender, &s.deployment, &proposal).await?;
            emit(
                global.output,
                &json!({"proposal_id": id.to_string()}),
                || format!("proposal {id} created"),
            );
            Ok(())
        }
        GovCommand::Vote {
            id,
            support,
            signer,
        } => {
            let id = proposal_id(&id)?;
            let s = Session::open(global, &signer).await?;
            let receipt = ops::vote(&s.sender, &s.deployment, id, support as u8).await?;
            let tx = format!("{:#x}", receipt.transaction_hash);
            emit(
                global.output,
                &json!({"proposal_id": id.to_string(), "support": format!("{support:?}").to_lowercase(), "tx": tx}),
                || format!("voted {support:?} on {id} in {tx}"),
            );
            Ok(())
        }
        GovCommand::Queue(a) => timelock_step(a, global, "queue").await,
        GovCommand::Execute(a) => timelock_step(a, global, "execute").await,
        GovCommand::Show { id } => {
            let id = proposal_id(&id)?;
            let http = reqwest::Client::new();
            let body = api_get(&http, &global.api_url, &format!("/v1/proposals/{id}")).await?;
            emit(global.output, &body, || {
                let p = if body["proposal"].is_null() {
                    &body
                } else {
                    &body["proposal"]
                };
                lines(p)
            });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_parameter_keys_parse() {
        assert_eq!(
            parse_setting("minSubmitWindow=15m").unwrap(),
            ("minSubmitWindow".to_owned(), U256::from(900u64))
        );
        for (raw, key, value) in [
            (
                "slashRewardMultipleBps=30000",
                "slashRewardMultipleBps",
                30_000u64,
            ),
            ("compensationBps=300", "compensationBps", 300),
            ("declineFeeBps=50", "declineFeeBps", 50),
            ("disputeBondBps=500", "disputeBondBps", 500),
        ] {
            assert_eq!(
                parse_setting(raw).unwrap(),
                (key.to_owned(), U256::from(value))
            );
        }
    }
}
