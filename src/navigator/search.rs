//! Finding venues (function 4): nearest to a point, or in a municipality, a postal code, or by
//! free text; by vaccine, dates with free places, and acceptance of the general public. Only
//! facilities that agreed to be published appear.

use crate::db::{Db, Filter};
use crate::error::{AppError, AppResult};
use crate::organizations::{OrganizationRecord, store};

/// Largest radius of a search near a point.
pub const MAX_RADIUS_KM: f64 = 50.0;
/// Default radius.
pub const DEFAULT_RADIUS_KM: f64 = 10.0;
/// Most venues one search returns.
pub const MAX_RESULTS: i64 = 100;
/// Kilometres per degree of latitude (mean).
const KM_PER_DEGREE: f64 = 111.2;

/// A point (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

impl Point {
    /// Great-circle distance in kilometres (haversine, mean Earth radius).
    pub fn distance_km(self, other: Point) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * 6371.0 * a.sqrt().asin()
    }
}

/// A validated search.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    pub near: Option<(Point, f64)>,
    pub municipality_id: Option<String>,
    pub postal_code: Option<String>,
    pub text: Option<String>,
    pub product: Option<(String, String)>,
    /// Only venues with a free place between these days (vsys venues; the others do not
    /// publish dates and stay in the results).
    pub dates: Option<(String, String)>,
    pub general_public_only: bool,
    pub first: i64,
}

/// What was asked, before checking.
#[derive(Debug, Default)]
pub struct CriteriaInput {
    pub near: Option<Point>,
    pub radius_km: Option<f64>,
    pub municipality_id: Option<String>,
    pub postal_code: Option<String>,
    pub text: Option<String>,
    pub first: Option<i64>,
    pub general_public_only: bool,
}

impl Criteria {
    /// Checks a search: a place to look is required, the radius and the result count are
    /// capped, a postal code is seven digits.
    pub fn validate(input: CriteriaInput) -> AppResult<Criteria> {
        let first = input.first.unwrap_or(20);
        if !(1..=MAX_RESULTS).contains(&first) {
            return Err(AppError::invalid_field(
                "first",
                format!("1 to {MAX_RESULTS} venues / 表示件数は1〜{MAX_RESULTS}件です"),
            ));
        }
        let near = match input.near {
            Some(point) => {
                if !(20.0..=46.0).contains(&point.latitude)
                    || !(122.0..=154.0).contains(&point.longitude)
                {
                    return Err(AppError::invalid_field(
                        "near",
                        "a point in Japan (latitude 20–46, longitude 122–154) / 日本国内の地点を指定してください",
                    ));
                }
                let radius = input.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
                if !(radius > 0.0 && radius <= MAX_RADIUS_KM) {
                    return Err(AppError::invalid_field(
                        "radiusKm",
                        format!(
                            "a radius up to {MAX_RADIUS_KM} km / 半径は{MAX_RADIUS_KM}km以内です"
                        ),
                    ));
                }
                Some((point, radius))
            }
            None if input.radius_km.is_some() => {
                return Err(AppError::invalid_field(
                    "radiusKm",
                    "a radius needs a point (near) / 半径には地点の指定が必要です",
                ));
            }
            None => None,
        };
        let postal_code = input
            .postal_code
            .map(|code| {
                let digits: String = code.chars().filter(char::is_ascii_digit).collect();
                let shape_ok = code.chars().all(|c| c.is_ascii_digit() || c == '-');
                if digits.len() != 7 || !shape_ok {
                    return Err(AppError::invalid_field(
                        "postalCode",
                        "a postal code of seven digits, e.g. 153-0063 / 郵便番号は7桁です",
                    ));
                }
                Ok(format!("{}-{}", &digits[..3], &digits[3..]))
            })
            .transpose()?;
        let text = input.text.map(|t| t.trim().to_owned());
        if text
            .as_ref()
            .is_some_and(|t| t.is_empty() || t.chars().count() > 50)
        {
            return Err(AppError::invalid_field(
                "text",
                "1 to 50 characters / 検索語は1〜50文字です",
            ));
        }
        if near.is_none()
            && input.municipality_id.is_none()
            && postal_code.is_none()
            && text.is_none()
        {
            return Err(AppError::invalid_field(
                "near",
                "say where to look: a point, a municipality, a postal code or a word / 地点・市区町村・郵便番号・キーワードのいずれかを指定してください",
            ));
        }
        Ok(Criteria {
            near,
            municipality_id: input.municipality_id,
            postal_code,
            text,
            product: None,
            dates: None,
            general_public_only: input.general_public_only,
            first,
        })
    }
}

/// `%` and `_` typed by a user match themselves.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The published venues matching, nearest first when a point is given (else by code), each
/// with its distance; at most `first + 1` so the caller learns whether more matched.
pub async fn find(
    db: &Db,
    criteria: &Criteria,
    now_minute: &str,
) -> AppResult<Vec<(OrganizationRecord, Option<f64>)>> {
    let mut filter = Filter::default();
    filter
        .and("o.kind = 'FACILITY'", [])
        .and("f.navigator_published = 1", []);
    let mut order = "o.code".to_owned();
    if let Some((point, radius)) = criteria.near {
        let dlat = radius / KM_PER_DEGREE;
        let cos = point.latitude.to_radians().cos();
        let dlon = radius / (KM_PER_DEGREE * cos);
        // The bounds are numbers formatted from f64s, never user text, written into the
        // statement: bound as text they would not compare with PostgreSQL's doubles.
        filter.and(
            &format!(
                "f.latitude BETWEEN {} AND {} AND f.longitude BETWEEN {} AND {}",
                point.latitude - dlat,
                point.latitude + dlat,
                point.longitude - dlon,
                point.longitude + dlon
            ),
            [],
        );
        // Nearest first by the flat-earth distance (exact enough within 50 km); the exact
        // great-circle distance is computed below for the radius and the answer.
        order = format!(
            "(f.latitude - ({lat})) * (f.latitude - ({lat})) + \
             (f.longitude - ({lon})) * (f.longitude - ({lon})) * {cos2}, o.code",
            lat = point.latitude,
            lon = point.longitude,
            cos2 = cos * cos
        );
    }
    if let Some(m) = &criteria.municipality_id {
        filter.and("o.municipality_id = ?", [m.clone()]);
    }
    if let Some(code) = &criteria.postal_code {
        filter.and("f.postal_code = ?", [code.clone()]);
    }
    if let Some(text) = &criteria.text {
        let pattern = like_pattern(text);
        filter.and(
            "(o.name LIKE ? ESCAPE '\\' OR o.name_kana LIKE ? ESCAPE '\\' \
             OR o.name_romaji LIKE ? ESCAPE '\\' OR f.address LIKE ? ESCAPE '\\')",
            [pattern.clone(), pattern.clone(), pattern.clone(), pattern],
        );
    }
    if let Some((_, code)) = &criteria.product {
        // Vaccine codes are stored as a JSON array of strings.
        filter.and("f.vaccines_handled LIKE ?", [format!("%\"{code}\"%")]);
    }
    if criteria.general_public_only {
        filter.and("f.general_acceptance = 1", []);
    }
    if let Some((from, to)) = &criteria.dates {
        let product = criteria.product.as_ref().map(|(id, _)| id.clone());
        let product_condition = if product.is_some() {
            " AND s.product_id = ?"
        } else {
            ""
        };
        let mut values = vec![from.clone(), to.clone(), now_minute.to_owned()];
        values.extend(product);
        filter.and(
            &format!(
                "(f.reservation_mode <> 'VSYS' OR EXISTS (SELECT 1 FROM reservation_slots s \
                 WHERE s.facility_id = o.id AND s.slot_date BETWEEN ? AND ? \
                 AND s.starts_at > ? AND s.booked < s.capacity{product_condition}))"
            ),
            values,
        );
    }
    let rows = store::matching(db, filter, &order, criteria.first + 1).await?;
    let mut found: Vec<(OrganizationRecord, Option<f64>)> = rows
        .into_iter()
        .map(|record| {
            let distance = criteria.near.and_then(|(point, _)| {
                Some(point.distance_km(Point {
                    latitude: record.latitude?,
                    longitude: record.longitude?,
                }))
            });
            (record, distance)
        })
        .collect();
    if let Some((_, radius)) = criteria.near {
        found.retain(|(_, d)| d.is_some_and(|d| d <= radius));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEGURO: Point = Point {
        latitude: 35.6339,
        longitude: 139.7079,
    };

    #[test]
    fn distances_are_great_circle_kilometres() {
        let tokyo_station = Point {
            latitude: 35.6812,
            longitude: 139.7671,
        };
        let d = MEGURO.distance_km(tokyo_station);
        assert!((7.0..8.0).contains(&d), "{d}");
        assert_eq!(MEGURO.distance_km(MEGURO), 0.0);
    }

    fn field(input: CriteriaInput) -> String {
        match Criteria::validate(input) {
            Err(AppError::InvalidInput { field, .. }) => field.unwrap(),
            other => panic!("expected invalid input: {other:?}"),
        }
    }

    #[test]
    fn searches_are_capped_and_need_a_place() {
        let near = |radius: f64| CriteriaInput {
            near: Some(MEGURO),
            radius_km: Some(radius),
            ..Default::default()
        };
        assert_eq!(field(near(10_000.0)), "radiusKm");
        assert_eq!(field(near(0.0)), "radiusKm");
        assert_eq!(field(near(f64::NAN)), "radiusKm");
        assert!(Criteria::validate(near(50.0)).is_ok());
        let mut many = near(5.0);
        many.first = Some(5000);
        assert_eq!(field(many), "first");
        assert_eq!(field(CriteriaInput::default()), "near");
        let abroad = CriteriaInput {
            near: Some(Point {
                latitude: 51.5,
                longitude: -0.1,
            }),
            ..Default::default()
        };
        assert_eq!(field(abroad), "near");
        let postal = |code: &str| CriteriaInput {
            postal_code: Some(code.into()),
            ..Default::default()
        };
        assert_eq!(field(postal("153-006")), "postalCode");
        assert_eq!(field(postal("153 0063")), "postalCode");
        assert_eq!(
            Criteria::validate(postal("1530063")).unwrap().postal_code,
            Some("153-0063".into())
        );
    }

    #[test]
    fn typed_wildcards_match_themselves() {
        assert_eq!(like_pattern("100%_x"), "%100\\%\\_x%");
    }
}
