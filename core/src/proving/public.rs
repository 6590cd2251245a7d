//! The public side of a block proof, computed by prover and verifier alike:
//! what goes into the Fiat–Shamir channel before any randomness is drawn, and
//! the part of the LogUp sums the verifier contributes from the statement.

use stwo::core::channel::Channel;
use stwo::core::fields::FieldExpOps;
use stwo::core::fields::m31::BaseField;
use stwo::core::fields::qm31::SecureField;
use stwo_constraint_framework::Relation;

use crate::hash::{M31, hash_to_elements};
use crate::types::{Address, Hash};

use super::components::LogSizes;
use super::relations::Relations;
use super::statement::BlockStatement;

/// Binds the channel to the statement, the prover's reward address and the
/// component sizes, so every random challenge depends on them: a proof made
/// for one statement says nothing about another, and a proof resent under
/// another prover's address does not verify (the reward goes to whoever made
/// the proof, not to whoever relays it first).
pub fn mix_statement(
    channel: &mut impl Channel,
    statement: &BlockStatement,
    prover: &Address,
    sizes: &LogSizes,
) {
    let mut words = alloc::vec::Vec::new();
    words.extend(hash_to_elements(&prover.as_hash()).map(M31::value));
    words.extend(root_tuple(0, &statement.pre_root).map(|e| e.0));
    words.extend(root_tuple(statement.writes, &statement.post_root).map(|e| e.0));
    words.push(statement.entries.len() as u32);
    for entry in &statement.entries {
        words.extend(entry.elements().map(M31::value));
    }
    words.extend(sizes.to_array());
    channel.mix_u32s(&words);
}

/// The verifier's share of the LogUp sums: it yields every transaction entry
/// and the pre-state root (after 0 writes), and uses the post-state root
/// (after all writes). With the components' claimed sums, the total is zero
/// exactly when every relation balances.
pub fn public_sum(relations: &Relations, statement: &BlockStatement) -> SecureField {
    let yield_of = |denominator: SecureField| -denominator.inverse();
    let mut sum = SecureField::from(BaseField::from_u32_unchecked(0));
    for entry in &statement.entries {
        let tuple = entry.elements().map(|e| BaseField::from_u32_unchecked(e.value()));
        sum += yield_of(combine(&relations.transaction, &tuple));
    }
    sum += yield_of(combine(&relations.root, &root_tuple(0, &statement.pre_root)));
    sum += combine(&relations.root, &root_tuple(statement.writes, &statement.post_root)).inverse();
    sum
}

/// A [`Root`](super::relations::Root) tuple: the root after `step` writes.
fn root_tuple(step: u32, root: &Hash) -> [BaseField; 9] {
    let mut tuple = [BaseField::from_u32_unchecked(step); 9];
    for (slot, element) in tuple[1..].iter_mut().zip(hash_to_elements(root)) {
        *slot = BaseField::from_u32_unchecked(element.value());
    }
    tuple
}

fn combine<R: Relation<BaseField, SecureField>>(relation: &R, tuple: &[BaseField]) -> SecureField {
    relation.combine(tuple)
}
