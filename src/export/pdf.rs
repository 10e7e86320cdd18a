//! The PDF resume, typeset in-process by typst (used as a library: no browser, no external
//! process) with fonts compiled into the binary.
//!
//! The layout is `resume.typ`, fixed at build time. The resume's text reaches it only as
//! JSON in `sys.inputs`, read with `json()` and placed as string values: typst never parses
//! any of it as markup, so names, titles and descriptions print exactly as written. The PDF
//! is tagged (typst's default), carries the document title and author, and embeds the
//! subset of each font it uses, with a ToUnicode map, so text extracts in reading order.

use super::{Mark, ResumeDocument};
use serde_json::{Value, json};
use std::sync::LazyLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, Str};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt as _, World};

/// The paper a PDF is set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    A4,
    Letter,
}

impl Paper {
    /// `a4` or `letter` (any case); `None` for anything else.
    pub fn parse(text: &str) -> Option<Paper> {
        match text.to_ascii_lowercase().as_str() {
            "a4" => Some(Paper::A4),
            "letter" | "us-letter" => Some(Paper::Letter),
            _ => None,
        }
    }

    fn typst_name(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "us-letter",
        }
    }
}

/// A file carried inside the PDF.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: &'static str,
    pub mime: &'static str,
    pub description: &'static str,
    pub content: Vec<u8>,
}

impl Attachment {
    pub const LER_RS_NAME: &'static str = "ler-rs.json";
    pub const CREDENTIAL_NAME: &'static str = "resume-credential.json";

    pub fn ler_rs(content: Vec<u8>) -> Attachment {
        Attachment {
            name: Self::LER_RS_NAME,
            mime: "application/json",
            description: "The resume as HR Open Standards LER-RS 4.4 JSON, each item with its original credential",
            content,
        }
    }

    pub fn credential(content: Vec<u8>) -> Attachment {
        Attachment {
            name: Self::CREDENTIAL_NAME,
            mime: "application/vc+ld+json",
            description: "The resume as a Verifiable Credential signed by the service (eddsa-rdfc-2022)",
            content,
        }
    }
}

/// The fonts compiled in (see fonts/SOURCES): Noto Sans for Latin, Greek and Cyrillic,
/// Noto Sans Arabic, Droid Sans Fallback for Chinese, Japanese and Korean, Symbola for emoji
/// and symbols. typst falls back through them glyph by glyph.
static FONT_FILES: [&[u8]; 6] = [
    include_bytes!("../../fonts/NotoSans-Regular.ttf"),
    include_bytes!("../../fonts/NotoSans-Bold.ttf"),
    include_bytes!("../../fonts/NotoSansArabic-Regular.ttf"),
    include_bytes!("../../fonts/NotoSansArabic-Bold.ttf"),
    include_bytes!("../../fonts/DroidSansFallbackFull.ttf"),
    include_bytes!("../../fonts/Symbola.ttf"),
];

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

const TEMPLATE: &str = include_str!("resume.typ");

static MAIN: LazyLock<FileId> = LazyLock::new(|| {
    let path = VirtualPath::new("/resume.typ").unwrap_or_else(|_| unreachable!("a valid path"));
    RootedPath::new(VirtualRoot::Project, path).intern()
});

/// One typesetting: the fixed layout, the fonts, and this resume's data as `sys.inputs`.
struct ResumeWorld {
    library: LazyHash<Library>,
    main: Source,
}

impl World for ResumeWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, _id: FileId) -> FileResult<Bytes> {
        // The layout reads nothing from disk: all data comes through `sys.inputs`.
        Err(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        None
    }
}

/// The data the layout reads.
pub fn layout_data(document: &ResumeDocument, paper: Paper, attachments: &[Attachment]) -> Value {
    let optional = |v: &Option<String>| v.clone().map_or(Value::Null, Value::from);
    let mut contact = vec![document.email.clone()];
    contact.extend(document.phone.clone());
    contact.extend(document.address.clone());
    let skills: Vec<Value> = document
        .skills
        .iter()
        .map(|skill| {
            let mut detail = skill.category.clone();
            if let Some(level) = &skill.level {
                detail.push_str(" · ");
                detail.push_str(level);
            }
            let (mark, by) = match &skill.verified_by {
                Some(by) => (
                    "verified",
                    Some(match &skill.verified_on {
                        Some(on) => format!("verified by {by}, {on}"),
                        None => format!("verified by {by}"),
                    }),
                ),
                None => (Mark::SelfReported.label(), None),
            };
            json!({ "name": skill.name, "detail": detail, "mark": mark, "verified_by": by })
        })
        .collect();
    let sections: Vec<Value> = document
        .sections
        .iter()
        .map(|section| {
            let items: Vec<Value> = section
                .items
                .iter()
                .map(|item| {
                    json!({
                        "title": item.title,
                        "organisation": optional(&item.organisation),
                        "date": optional(&item.date),
                        "description": optional(&item.description),
                        "mark": item.mark.label(),
                    })
                })
                .collect();
            json!({ "title": section.title, "items": items })
        })
        .collect();
    let files: Vec<Value> = attachments
        .iter()
        .map(|file| {
            json!({
                "name": file.name,
                "mime": file.mime,
                "description": file.description,
                "content": String::from_utf8_lossy(&file.content),
            })
        })
        .collect();
    json!({
        "title": format!("Resume of {}", document.name),
        "name": document.name,
        "headline": optional(&document.headline),
        "summary": optional(&document.summary),
        "contact": contact,
        "share_url": document.share_url,
        "qr": qr_svg(&document.share_url),
        "paper": paper.typst_name(),
        "footer": format!(
            "Generated by CredentialConnect on {} · verify at {}",
            crate::clock::rfc3339(document.generated_at).get(..10).unwrap_or(""),
            document.share_url
        ),
        "skills": skills,
        "sections": sections,
        "attachments": files,
    })
}

/// The QR code of `url`, as SVG (medium error correction: survives a crease or a smudge).
pub fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .min_dimensions(200, 200)
            .build(),
        Err(error) => {
            tracing::error!(%error, "a share link did not fit a QR code");
            String::from(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"></svg>",
            )
        }
    }
}

/// Typesets the resume.
pub fn render(
    document: &ResumeDocument,
    paper: Paper,
    attachments: &[Attachment],
) -> Result<Vec<u8>, String> {
    render_data(&layout_data(document, paper, attachments))
}

/// Typesets layout data (see [`layout_data`]).
pub fn render_data(data: &Value) -> Result<Vec<u8>, String> {
    let inputs: Dict = [(
        Str::from("data"),
        typst::foundations::Value::Str(Str::from(data.to_string())),
    )]
    .into_iter()
    .collect();
    let world = ResumeWorld {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        main: Source::new(*MAIN, TEMPLATE.to_string()),
    };
    let compiled = typst::compile::<typst_layout::PagedDocument>(&world);
    let result = compiled
        .output
        .map_err(|errors| describe(&errors))
        .and_then(|document| {
            typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
                .map_err(|errors| describe(&errors))
        });
    // typst memoises layout across compilations; each resume is new data, so keep only what
    // the last few used (the fonts and the parsed layout stay warm).
    comemo::evict(4);
    result
}

fn describe(errors: &[typst::diag::SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
