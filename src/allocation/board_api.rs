//! The GraphQL face of the nation's board (`Query.allocationBoard`).

use async_graphql::{Context, Object};

use super::board::PrefectureRow;
use super::cools::CoolStage;
use crate::clock::Timestamp;
use crate::organizations::{OrganizationNode, load_organization};

fn int(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub struct PrefectureProgress(pub PrefectureRow);

/// One prefecture on the nation's board of a cool: where its allocation stands and what became
/// of the vaccine. Amounts are of the cool's vaccine.
#[Object]
impl PrefectureProgress {
    /// The prefecture.
    async fn prefecture(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        Ok(load_organization(ctx, &self.0.prefecture_id)
            .await?
            .map(OrganizationNode::from))
    }
    /// Vaccine boxes the nation gave it.
    async fn received_boxes(&self) -> i32 {
        int(self.0.received_boxes)
    }
    /// The same in doses.
    async fn received_doses(&self) -> i32 {
        int(self.0.received_boxes * self.0.doses_per_box)
    }
    /// When it confirmed what it received (確認済).
    async fn confirmed_at(&self) -> Option<Timestamp> {
        self.0.confirmed_at
    }
    /// Vaccine boxes it gave its municipalities.
    async fn allocated_boxes(&self) -> i32 {
        int(self.0.allocated_boxes)
    }
    /// When it completed its allocation down (分配作業完了).
    async fn completed_at(&self) -> Option<Timestamp> {
        self.0.completed_at
    }
    /// When it locked (データロック).
    async fn locked_at(&self) -> Option<Timestamp> {
        self.0.locked_at
    }
    /// Municipalities it gave vaccine to.
    async fn municipalities_receiving(&self) -> i32 {
        int(self.0.municipalities_receiving)
    }
    /// Of those, the municipalities that completed their allocation.
    async fn municipalities_completed(&self) -> i32 {
        int(self.0.municipalities_completed)
    }
    /// Doses of this cool delivered to its facilities.
    async fn delivered_doses(&self) -> i32 {
        int(self.0.delivered_doses)
    }
    /// Doses of the vaccine its facilities administered (latest cumulative reports).
    async fn administered_doses(&self) -> i32 {
        int(self.0.administered_doses)
    }
    /// Doses of the vaccine its facilities wasted.
    async fn wasted_doses(&self) -> i32 {
        int(self.0.wasted_doses)
    }
    /// Doses of the vaccine on hand at its facilities (the stock ledger: delivered −
    /// administered − wasted ± transfers).
    async fn stock_on_hand_doses(&self) -> i32 {
        int(self.0.on_hand_doses)
    }
    /// The stages past their deadline in which its part is not done.
    async fn late_stages(&self) -> Vec<CoolStage> {
        self.0.late.clone()
    }
}
