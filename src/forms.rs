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

impl FieldError {
    /// The message as a sentence, as the error summary lists it ("enter your first name" →
    /// "Enter your first name").
    pub fn sentence(&self) -> String {
        let mut chars = self.message.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_uppercase().chain(chars).collect()
        })
    }
}

/// A form sent back after a failed submit, as every page shows it: the page title starts
/// with "Error: ", a summary at the top of the form (`templates/_error_summary.html`)
/// lists each problem as a link to its field, each field with a problem says so
/// (`aria-invalid`, its message named by `aria-describedby`), and the first of them takes the
/// focus. The problems are kept in the order of the fields on the page, so the summary
/// reads as the form does and the focus goes to the first field a person meets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors(Vec<FieldError>);

impl FormErrors {
    /// `errors`, in the order of `fields` (the form's field names, top to bottom; a problem
    /// with a field not listed goes last).
    pub fn new(errors: &[FieldError], fields: &[&str]) -> FormErrors {
        let mut errors = errors.to_vec();
        errors.sort_by_key(|e| {
            fields
                .iter()
                .position(|f| *f == e.field)
                .unwrap_or(fields.len())
        });
        FormErrors(errors)
    }

    /// No problem: the form as first shown.
    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every problem, in page order.
    pub fn list(&self) -> &[FieldError] {
        &self.0
    }

    /// What the summary lists: each problem once (one message about two fields, "enter your
    /// email address or your student id", links to the first of them).
    pub fn summary(&self) -> Vec<&FieldError> {
        let mut listed: Vec<&FieldError> = Vec::new();
        for error in &self.0 {
            if !listed.iter().any(|e| e.message == error.message) {
                listed.push(error);
            }
        }
        listed
    }

    /// The problem with `field`, if any.
    pub fn message(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether `field` is the first field with a problem (it gets `autofocus`).
    pub fn focus(&self, field: &str) -> bool {
        self.0.first().is_some_and(|e| e.field == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_follow_the_fields_order_and_the_first_takes_the_focus() {
        let errors = FormErrors::new(
            &[
                FieldError::new("password", "choose a longer password"),
                FieldError::new("elsewhere", "something else"),
                FieldError::new("email", "enter an email address"),
            ],
            &["given_name", "email", "password"],
        );
        let fields: Vec<&str> = errors.list().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "password", "elsewhere"]);
        assert!(errors.focus("email") && !errors.focus("password"));
        assert_eq!(errors.message("password"), Some("choose a longer password"));
        assert_eq!(errors.message("given_name"), None);
        assert_eq!(errors.list()[0].sentence(), "Enter an email address");
        let either = "enter your email address or your student id";
        let both = FormErrors::new(
            &[
                FieldError::new("email", either),
                FieldError::new("student_id", either),
            ],
            &["email", "student_id"],
        );
        assert_eq!(both.summary(), [&FieldError::new("email", either)]);
        assert!(FormErrors::none().is_empty() && !FormErrors::none().focus("email"));
    }
}
