#pragma once
// Importing a prompt list (.txt, or .csv with a "prompt" column) into a text box, for the training
// wizard and the report dialog.
class QPlainTextEdit;
class QString;
class QWidget;

namespace respo::ui {

// Asks for a file and puts its prompts, one per line, into `target`. False when the user cancelled
// or the file could not be read (a message box says why).
bool importPromptList(QWidget* parent, QPlainTextEdit* target);
// The same for a given file: on failure a (non-modal) message box named "promptImportError" says why
// and `target` keeps its text.
bool importPromptListFrom(QWidget* parent, QPlainTextEdit* target, const QString& file);

}  // namespace respo::ui
