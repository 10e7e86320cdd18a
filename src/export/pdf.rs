//! The PDF resume, typeset in-process by typst (used as a library: no browser, no external
//! process) with fonts compiled into the binary.
//!
//! The layout is `resume.typ`, fixed at build time. The resume's text reaches it only as
//! a JSON file, read with `json()` and placed as string values: typst never parses
//! any of it as markup, so names, titles and descriptions print exactly as written. The PDF
//! is tagged (typst's default), carries the document title and author, and embeds the
//! subset of each font it uses, with a ToUnicode map, so text extracts in reading order.

use super::{Mark, ResumeDocument};
use serde_json::{Value, json};
use std::sync::LazyLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
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

/// A file of the layout's own project.
fn project_file(path: &str) -> FileId {
    let path = VirtualPath::new(path).unwrap_or_else(|_| unreachable!("a valid path"));
    RootedPath::new(VirtualRoot::Project, path).intern()
}

static MAIN: LazyLock<FileId> = LazyLock::new(|| project_file("/resume.typ"));
static DATA: LazyLock<FileId> = LazyLock::new(|| project_file("/data.json"));
static QR: LazyLock<FileId> = LazyLock::new(|| project_file("/qr.svg"));

/// The layout and the standard library are the same for every resume: built and hashed once,
/// so each typesetting starts from typst's memo of them instead of a fresh library to hash
/// and a template to parse. Only the files below change from one resume to the next.
static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));
static SOURCE: LazyLock<Source> = LazyLock::new(|| Source::new(*MAIN, TEMPLATE.to_string()));

/// One typesetting: the fixed layout and fonts, and this resume's files: its data as JSON
/// (`/data.json`), its QR code (`/qr.svg`) and the files to embed (`/attachments/N`).
struct ResumeWorld {
    data: Bytes,
    qr: Bytes,
    attachments: Vec<Bytes>,
}

impl World for ResumeWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        *MAIN
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *MAIN {
            Ok(SOURCE.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        // Nothing is read from disk: these are the only files the layout can open.
        if id == *DATA {
            return Ok(self.data.clone());
        }
        if id == *QR {
            return Ok(self.qr.clone());
        }
        let path = id.vpath().get_without_slash();
        path.strip_prefix("attachments/")
            .and_then(|index| index.parse::<usize>().ok())
            .and_then(|index| self.attachments.get(index).cloned())
            .ok_or(FileError::AccessDenied)
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
    let world = ResumeWorld {
        data: Bytes::new(
            layout_data(document, paper, attachments)
                .to_string()
                .into_bytes(),
        ),
        qr: Bytes::new(qr_svg(&document.share_url).into_bytes()),
        attachments: attachments
            .iter()
            .map(|file| Bytes::new(file.content.clone()))
            .collect(),
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
    // the last few used (the fonts, the library and the parsed layout stay warm).
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
