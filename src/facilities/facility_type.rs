//! The GraphQL object of a facility: the fields every organisation has, its registry data,
//! and what only its area may read (answered by the facilities area's rules).

use async_graphql::Context;

use crate::organizations::{
    Facility, FacilityType, Municipality, PartnerOrganization, Prefecture, SupplyType,
    load_organization, load_required,
};

crate::organization_impl! {
    /// A facility that vaccinates (医療機関・接種会場): a clinic, hospital or special venue,
    /// supplied directly (basic-type) or through a basic-type facility (satellite).
    Facility {
        /// What kind of place this is.
        async fn facility_type(&self) -> Option<FacilityType> {
            self.0.facility_type
        }

        /// Postal code, as "123-4567".
        async fn postal_code(&self) -> Option<String> {
            self.0.postal_code.clone()
        }

        /// Street address in Japanese, from the prefecture down.
        async fn address(&self) -> Option<String> {
            self.0.address.clone()
        }

        /// Latitude in degrees (WGS 84).
        async fn latitude(&self) -> Option<f64> {
            self.0.latitude
        }

        /// Longitude in degrees (WGS 84).
        async fn longitude(&self) -> Option<f64> {
            self.0.longitude
        }

        /// Telephone number for the public.
        async fn phone(&self) -> Option<String> {
            self.0.phone.clone()
        }

        /// The municipality the facility is in.
        async fn municipality(&self, ctx: &Context<'_>) -> async_graphql::Result<Municipality> {
            load_required(ctx, self.0.municipality_id.as_deref()).await.map(Municipality)
        }

        /// The prefecture the facility is in.
        async fn prefecture(&self, ctx: &Context<'_>) -> async_graphql::Result<Prefecture> {
            load_required(ctx, self.0.prefecture_id.as_deref()).await.map(Prefecture)
        }

        /// Representative's name (代表者名): personal data, for the facility's area only.
        async fn representative_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
            super::private_representative_name(ctx, &self.0)
        }

        /// Vaccines handled (取扱いワクチン), as product codes.
        async fn vaccines_handled(&self) -> Vec<String> {
            self.0.vaccines().to_vec()
        }

        /// Whether the facility vaccinates the general public (一般受入).
        async fn general_acceptance(&self) -> bool {
            self.0.general_acceptance()
        }

        /// Whether its municipality may enter data for it (代行入力).
        async fn proxy_input(&self) -> bool {
            self.0.proxy_input()
        }

        /// Doses it can give per week (接種可能量).
        async fn weekly_capacity(&self) -> Option<i64> {
            self.0.weekly_capacity
        }

        /// Opening hours, for the navigator.
        async fn opening_hours(&self) -> Option<String> {
            self.0.opening_hours.clone()
        }

        /// Parking, for the navigator.
        async fn parking_notes(&self) -> Option<String> {
            self.0.parking_notes.clone()
        }

        /// Access by public transport, for the navigator.
        async fn access_notes(&self) -> Option<String> {
            self.0.access_notes.clone()
        }

        /// How the venue takes bookings: slots here (VSYS), elsewhere (EXTERNAL), or no booking
        /// needed (NOT_REQUIRED). Set by the facility or its municipality.
        async fn reservation_mode(&self) -> crate::organizations::ReservationMode {
            self.0.reservation_mode.unwrap_or(crate::organizations::ReservationMode::External)
        }

        /// How the facility receives vaccine: directly (basic-type) or through a basic-type
        /// facility (satellite).
        async fn supply_type(&self) -> SupplyType {
            self.0.supply()
        }

        /// The basic-type facility supplying this satellite (基本型接種施設); null for a
        /// basic-type facility. An approval field.
        async fn basic_facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
            match &self.0.basic_facility_id {
                Some(id) => Ok(load_organization(ctx, id).await?.map(Facility)),
                None => Ok(None),
            }
        }

        /// The municipality running this special venue (特設会場); it edits the venue without
        /// the proxy flag. Null for other facilities.
        async fn operating_municipality(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Municipality>> {
            match &self.0.operating_municipality_id {
                Some(id) => Ok(load_organization(ctx, id).await?.map(Municipality)),
                None => Ok(None),
            }
        }

        /// Registered doctors (personal data: the facility's area only).
        async fn doctors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::Doctor>> {
            super::private_doctors(ctx, &self.0).await
        }

        /// Vaccination contracts (the facility's area only).
        async fn contracts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::Contract>> {
            super::private_contracts(ctx, &self.0).await
        }

        /// The wholesaler delivering to the facility (the facility's area and the wholesaler
        /// itself).
        async fn delivering_wholesaler(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerOrganization>> {
            super::delivering_wholesaler(ctx, &self.0).await
        }

        /// Its allocation per cool and product in boxes and doses, with the delivery date and
        /// lots (seed p. 43). The facility sees its amounts from the data lock on; its
        /// municipality, prefecture and the nation as they are made.
        async fn allocations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<crate::delivery::FacilityAllocation>> {
            crate::delivery::facility_allocations(ctx, &self.0).await
        }

        /// Its current vaccination figures per vaccine (the facility's area only).
        async fn vaccination_reports(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<crate::reports::VaccinationReport>> {
            crate::reports::facility_reports(ctx, &self.0).await
        }

        /// Its stock on hand per vaccine: delivered − administered − wasted ± transfers (the
        /// facility's area only).
        async fn stock(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<crate::reports::StockOnHand>> {
            crate::reports::facility_stock(ctx, &self.0).await
        }

        /// Whether the facility may receive allocations and offer reservations, and why not
        /// (the facility's area only).
        async fn eligibility(&self, ctx: &Context<'_>) -> async_graphql::Result<super::Eligibility> {
            super::private_eligibility(ctx, &self.0).await
        }

        /// Whether a change to the approval fields waits for the municipality (PENDING, 申請中),
        /// was rejected (REJECTED), or nothing waits (NONE): the latest request's state (the
        /// facility's area only).
        async fn approval_status(&self, ctx: &Context<'_>) -> async_graphql::Result<crate::organizations::ApprovalStatus> {
            super::private_approval_status(ctx, &self.0).await
        }

        /// The change request waiting for the municipality, if any (the facility's area only).
        async fn pending_change_request(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<super::FacilityChangeRequest>> {
            super::private_pending_change_request(ctx, &self.0).await
        }
    }
}
