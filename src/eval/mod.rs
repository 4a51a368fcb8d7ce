//! Evaluation of retrieval and answers on public datasets, through the product's code.

pub mod gate;
pub mod metrics;
pub mod qa;
pub mod retrieval;
pub mod squad;
