//! What a person types into a form, checked: the problem with one field, said so that the
//! page can put it next to that field. Services return these; pages render them.

/// A problem with what the person typed, for one form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's form name (`email`, `given_name`, …).
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}
