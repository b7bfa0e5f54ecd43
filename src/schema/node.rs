//! `Query.node(id)`: any object by its global id, whichever area it belongs to.

use async_graphql::{Context, ID, Interface, Object};

use crate::allocation::{Cool, Product, load_cool_node, load_product_node};
use crate::error::AppError;
use crate::facilities::{
    Contract, Doctor, FacilityChangeRequest, PowerOfAttorney, RegistryNode,
    load_power_of_attorney_node, load_registry_node,
};
use crate::graphql::ids::parse_global_id;
use crate::identity::{User, load_user_node};
use crate::organizations::{
    Facility, Municipality, Nation, OrganizationNode, OrganizationRecord, PartnerOrganization,
    Prefecture, load_organization,
};

/// An object with a globally unique id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Globally unique, opaque id."))]
pub enum Node {
    Nation(Nation),
    Prefecture(Prefecture),
    Municipality(Municipality),
    Facility(Facility),
    PartnerOrganization(PartnerOrganization),
    User(User),
    FacilityChangeRequest(FacilityChangeRequest),
    Contract(Contract),
    Doctor(Doctor),
    PowerOfAttorney(PowerOfAttorney),
    Product(Product),
    Cool(Cool),
}

impl From<OrganizationRecord> for Node {
    fn from(record: OrganizationRecord) -> Self {
        match OrganizationNode::from(record) {
            OrganizationNode::Nation(o) => Node::Nation(o),
            OrganizationNode::Prefecture(o) => Node::Prefecture(o),
            OrganizationNode::Municipality(o) => Node::Municipality(o),
            OrganizationNode::Facility(o) => Node::Facility(o),
            OrganizationNode::PartnerOrganization(o) => Node::PartnerOrganization(o),
        }
    }
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id. An unknown or malformed id is `NOT_FOUND`.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as returned in any `id` field.")] id: ID,
    ) -> async_graphql::Result<Node> {
        let (type_name, row_id) = parse_global_id(&id)?;
        if type_name == "User" {
            return Ok(Node::User(load_user_node(ctx, &row_id).await?));
        }
        if type_name == "Cool" {
            return load_cool_node(ctx, &row_id)
                .await?
                .map(Node::Cool)
                .ok_or_else(|| AppError::NotFound("object").into());
        }
        if type_name == "Product" {
            return load_product_node(ctx, &row_id)
                .await?
                .map(Node::Product)
                .ok_or_else(|| AppError::NotFound("object").into());
        }
        if type_name == "PowerOfAttorney" {
            return Ok(Node::PowerOfAttorney(
                load_power_of_attorney_node(ctx, &row_id).await?,
            ));
        }
        if let Some(node) = load_registry_node(ctx, &type_name, &row_id).await? {
            return Ok(match node {
                RegistryNode::ChangeRequest(n) => Node::FacilityChangeRequest(n),
                RegistryNode::Contract(n) => Node::Contract(n),
                RegistryNode::Doctor(n) => Node::Doctor(n),
            });
        }
        let organization = load_organization(ctx, &row_id)
            .await?
            .ok_or(AppError::NotFound("object"))?;
        // The type named in the id must be the one the row has, or the id was forged.
        let node = Node::from(organization);
        if node_type_name(&node) != type_name {
            return Err(AppError::NotFound("object").into());
        }
        Ok(node)
    }
}

fn node_type_name(node: &Node) -> &'static str {
    match node {
        Node::Nation(_) => "Nation",
        Node::Prefecture(_) => "Prefecture",
        Node::Municipality(_) => "Municipality",
        Node::Facility(_) => "Facility",
        Node::PartnerOrganization(_) => "PartnerOrganization",
        Node::User(_) => "User",
        Node::FacilityChangeRequest(_) => "FacilityChangeRequest",
        Node::Contract(_) => "Contract",
        Node::Doctor(_) => "Doctor",
        Node::PowerOfAttorney(_) => "PowerOfAttorney",
        Node::Product(_) => "Product",
        Node::Cool(_) => "Cool",
    }
}
