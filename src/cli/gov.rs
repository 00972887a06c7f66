//! `accord gov …`: parameter changes through the governor and the timelock.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::GlobalArgs;
use super::session::{Session, api_get, emit, lines};
use crate::chain::account::{self, Proposal, ProposalCall, parse_duration, parse_tokens};
use crate::chain::evm::wallet::SignerArgs;
use crate::domain::{Address, Amount, ProposalId, U256};

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
        /// disputePeriod, minSubmitWindow, revealWindow (durations: 90s, 2h, 9d), protocolFeeBps, slashShareBps,
        /// slashRewardMultipleBps, compensationBps, declineFeeBps, disputeBondBps, consensusBps (basis points).
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

impl From<Support> for account::Support {
    fn from(s: Support) -> Self {
        match s {
            Support::Against => account::Support::Against,
            Support::For => account::Support::For,
            Support::Abstain => account::Support::Abstain,
        }
    }
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

fn proposal_id(raw: &str) -> anyhow::Result<ProposalId> {
    raw.parse::<U256>()
        .map(ProposalId)
        .map_err(|_| anyhow::anyhow!("proposal id '{raw}' is not an unsigned integer"))
}

/// Parses `key=value` into the parameter's value in contract units.
pub fn parse_setting(raw: &str) -> anyhow::Result<(String, Amount)> {
    let (key, value) = raw
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--set '{raw}' is not key=value"))?;
    let value = match key {
        "minStake" => parse_tokens(value)?,
        "unbondingPeriod" | "assignmentTimeout" | "challengeWindow" | "disputePeriod"
        | "minSubmitWindow" | "revealWindow" => {
            Amount(U256::from(parse_duration(value)?.as_secs()))
        }
        _ => value
            .parse::<U256>()
            .map(Amount)
            .map_err(|_| anyhow::anyhow!("--set {key}: '{value}' is not an integer"))?,
    };
    Ok((key.to_owned(), value))
}

/// The proposal as indexed, rebuilt for queue and execute.
async fn indexed_proposal(s: &Session, id: ProposalId) -> anyhow::Result<Proposal> {
    let path = crate::remote::with_chain(&format!("/v1/proposals/{id}"), Some(&s.chain));
    let body = api_get(&s.http, &s.api_url, &path).await?;
    let p = &body["proposal"];
    let p = if p.is_null() { &body } else { p };
    let strings = |k: &str| -> Vec<String> {
        p[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let family = s.wallet.family();
    let (targets, calldatas) = (strings("targets"), strings("calldatas"));
    if targets.len() != calldatas.len() {
        anyhow::bail!(
            "the indexed proposal {id} has {} targets but {} calls",
            targets.len(),
            calldatas.len()
        );
    }
    let calls = targets
        .iter()
        .zip(&calldatas)
        .map(|(t, c)| {
            Ok(ProposalCall {
                target: Address::parse(family, t)?,
                calldata: alloy::hex::decode(c)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let proposal = Proposal {
        calls,
        description: p["description"].as_str().unwrap_or_default().to_owned(),
    };
    if s.wallet.proposal_id(&proposal)? != id {
        anyhow::bail!("the indexed proposal does not hash to id {id}; is the index current?");
    }
    Ok(proposal)
}

/// Queues (`queue`) or executes (`execute`) the indexed proposal `a.id`.
async fn timelock_step(a: ProposalAction, global: &GlobalArgs, action: &str) -> anyhow::Result<()> {
    let id = proposal_id(&a.id)?;
    let s = Session::open(global, &a.signer).await?;
    let p = indexed_proposal(&s, id).await?;
    let tx = if action == "queue" {
        s.wallet.queue(&p).await?
    } else {
        s.wallet.execute(&p).await?
    }
    .tx;
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
            let s = Session::open(global, &signer).await?;
            let to = to
                .map(|t| Address::parse(s.wallet.family(), &t))
                .transpose()
                .map_err(|_| anyhow::anyhow!("--to is not an address"))?;
            let delegatee = to.clone().unwrap_or_else(|| s.wallet.address());
            let included = s.wallet.delegate(to).await?;
            emit(
                global.output,
                &json!({"delegatee": delegatee.as_str(), "tx": included.as_ref().map(|i| i.tx.clone())}),
                || match &included {
                    Some(i) => format!("votes delegated to {delegatee} in {}", i.tx),
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
            let proposal = Proposal {
                calls: settings
                    .iter()
                    .map(|(key, value)| s.wallet.parameter_call(key, *value))
                    .collect::<anyhow::Result<_>>()?,
                description,
            };
            let id = s.wallet.propose(&proposal).await?;
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
            let tx = s.wallet.vote(id, support.into()).await?.tx;
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
            let path = global.on_chain(&format!("/v1/proposals/{id}"));
            let body = api_get(&http, &global.api_url, &path).await?;
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
            ("minSubmitWindow".to_owned(), Amount(U256::from(900u64)))
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
                (key.to_owned(), Amount(U256::from(value)))
            );
        }
    }
}
