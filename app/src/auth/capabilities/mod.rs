//! What several flows share: the second factor, "confirm it's you" before a change, and
//! a factor change (other sessions end, devices are forgotten, the owner is told).

pub mod factor_change;
pub mod second_factor;
pub mod step_up;
