//! What the document utoipa generates from the handlers cannot say by itself: the shape of
//! the upload and replacement bodies (the handlers read raw bytes, leniently, so there is no
//! Rust type to derive it from), the names a token request's multipart parts can carry, and
//! the links from an upload's receipt to the operations on
//! the credentials it stored, which stateful clients and testers follow.
//!
//! The bodies' schemas are `schemas/package.json`, written from docs/partner-api.md: each
//! constraint in it is one the upload checks, so a body the schema refuses is refused by the
//! server too. 1EdTech's Open Badges 3.0 and CLR 2.0 schemas (`schemas/`, sources in
//! `schemas/SOURCES.tsv`) are served beside it as `OpenBadgeCredential` and `ClrCredential`
//! for what a credential holds beyond what the upload checks; they are not made part of the
//! bodies' schema, because the upload is deliberately more lenient than they are (empty
//! strings mean absent, VCDM 1.1 and 2.0 both read, integer ids accepted).

use serde_json::{Value, json};

const PACKAGE: &str = include_str!("schemas/package.json");
const OPEN_BADGE_CREDENTIAL: &str =
    include_str!("schemas/ob_v3p0_achievementcredential_schema.json");
const CLR_CREDENTIAL: &str = include_str!("schemas/clr_v2p0_clrcredential_schema.json");

const CREDENTIALS: &str = "/api/v1/credentials";
const CREDENTIAL: &str = "/api/v1/credentials/{id}";

/// Adds the bodies' schemas, the standards' schemas and the links to the document.
pub fn complete(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    for (name, schema) in parse(PACKAGE).as_object().into_iter().flatten() {
        schemas[name] = schema.clone();
    }
    schemas["OpenBadgeCredential"] = parse(OPEN_BADGE_CREDENTIAL);
    schemas["ClrCredential"] = parse(CLR_CREDENTIAL);

    let package = json!({"$ref": "#/components/schemas/Package"});
    let paths = &mut document["paths"];
    paths[CREDENTIALS]["post"]["requestBody"]["content"]["application/json"]["schema"] =
        package.clone();
    paths[CREDENTIAL]["put"]["requestBody"]["content"]["application/json"]["schema"] = package;

    // The receipt lists what was stored, first credential first: its id opens the rest.
    let first_stored = "$response.body#/credentials/0/id";
    paths[CREDENTIALS]["post"]["responses"]["200"]["links"] = json!({
        "ReadStoredCredential": link("read", first_stored, "Read the first credential stored"),
        "ReplaceStoredCredential": link("replace", first_stored, "Replace the first credential stored"),
        "DeleteStoredCredential": link("delete", first_stored, "Delete the first credential stored"),
    });
    // A multipart part's name travels in a header, where control characters (other than the
    // line breaks clients escape) make the body unreadable: such a name cannot be sent.
    let token = &mut paths["/api/v1/token"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ["schema"];
    *token = json!({
        "allOf": [token.take()],
        "propertyNames": {"pattern": "^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"},
    });
    let replaced = "$request.path.id";
    paths[CREDENTIAL]["put"]["responses"]["200"]["links"] = json!({
        "ReadReplacedCredential": link("read", replaced, "Read the credential replaced"),
        "DeleteReplacedCredential": link("delete", replaced, "Delete the credential replaced"),
    });
}

fn link(operation_id: &str, id: &str, description: &str) -> Value {
    json!({
        "operationId": operation_id,
        "parameters": {"id": id},
        "description": description,
    })
}

/// The bundled files are checked by the tests below; a broken one would be a build mistake.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| {
        tracing::error!(%error, "a bundled schema of the API document does not parse");
        Value::Null
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_schemas_parse_and_name_their_standards() {
        assert!(parse(PACKAGE)["Package"].is_object());
        assert_eq!(
            parse(OPEN_BADGE_CREDENTIAL)["$id"],
            "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
        );
        assert_eq!(
            parse(CLR_CREDENTIAL)["$id"],
            "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
        );
    }

    #[test]
    fn every_reference_in_the_package_schemas_resolves() {
        let package = parse(PACKAGE);
        let text = package.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(
                package.get(name).is_some(),
                "{name} is referred to but not defined"
            );
        }
    }
}
