#include "ui/wizard_prompts_page.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/respo/prompt_list.h"
#include "ui/prompt_import.h"

namespace respo::ui {

namespace c = respo::concepts;

namespace {

QString joined(const std::vector<std::string>& lines) {
  QStringList out;
  for (const auto& line : lines) out << QString::fromStdString(line);
  return out.join('\n');
}

std::vector<std::string> promptLines(const QPlainTextEdit* edit) {
  return c::parsePromptList(edit->toPlainText().toStdString(), c::PromptListFormat::Lines);
}

}  // namespace

PromptListsPage::PromptListsPage(QWidget* parent) : QWizardPage(parent) {
  setTitle(tr("Prompts"));
  setSubTitle(tr("One prompt per line, pasted or imported from a .txt or .csv file (the \"prompt\" column, "
                 "else the first). Each step draws one index j and uses neutral prompt j and target prompt j "
                 "(lists of different lengths wrap around)."));
  auto* layout = new QVBoxLayout(this);
  help_ = new QLabel;
  help_->setWordWrap(true);
  layout->addWidget(help_);
  auto addList = [&](const QString& title, const char* name, QPlainTextEdit*& edit) {
    auto* box = new QGroupBox(title);
    auto* boxLayout = new QVBoxLayout(box);
    edit = new QPlainTextEdit;
    edit->setObjectName(name);
    edit->setTabChangesFocus(true);
    auto* import = new QPushButton(tr("Import .txt / .csv..."));
    import->setObjectName(QString(name) + "Import");
    QPlainTextEdit* target = edit;
    connect(import, &QPushButton::clicked, this, [this, target] { importPromptList(this, target); });
    boxLayout->addWidget(edit);
    boxLayout->addWidget(import, 0, Qt::AlignRight);
    layout->addWidget(box, 1);
  };
  addList(tr("Neutral prompts (what users type)"), "neutralPrompts", neutral_);
  addList(tr("Target prompts (what the module should steer towards)"), "targetPrompts", target_);
  auto* negativeRow = new QFormLayout;
  negativeLabel_ = new QLabel(tr("Unsafe concept"));
  negative_ = new QLineEdit;
  negative_->setObjectName("negativePrompt");
  negative_->setPlaceholderText(tr("what the module steers away from, e.g. blood, violence"));
  negativeRow->addRow(negativeLabel_, negative_);
  layout->addLayout(negativeRow);
}

void PromptListsPage::setSafety(bool safety) {
  negative_->setVisible(safety);
  negativeLabel_->setVisible(safety);
  help_->setText(safety ? tr("Safety: neutral prompts are the scenes users ask for (\"a scene\"); the target is "
                             "the same scene made safe (often the neutral prompt itself); the unsafe concept is "
                             "steered away from.")
                        : tr("Fairness: neutral prompts mention a person without the attribute (\"a person\"); "
                             "targets add it (\"a woman\"). The module learns to add it to any prompt."));
}

void PromptListsPage::apply(const c::ConceptSettings& s) {
  neutral_->setPlainText(joined(s.neutralPrompts()));
  target_->setPlainText(joined(s.targetPrompts()));
  negative_->setText(QString::fromStdString(s.negativePrompt));
}

void PromptListsPage::read(c::ConceptSettings& s) const {
  const auto neutral = promptLines(neutral_), target = promptLines(target_);
  if (!neutral.empty()) s.neutralPrompt = neutral.front(), s.moreNeutralPrompts.assign(neutral.begin() + 1, neutral.end());
  else s.neutralPrompt.clear();
  if (!target.empty()) s.targetPrompt = target.front(), s.moreTargetPrompts.assign(target.begin() + 1, target.end());
  s.negativePrompt = s.kind == c::ConceptKind::Safety ? negative_->text().trimmed().toStdString() : std::string();
}

QString PromptListsPage::problem(const c::ConceptSettings& s) const {
  if (s.neutralPrompt.empty()) return tr("Enter at least one neutral prompt.");
  if (s.targetPrompt.empty()) return tr("Enter at least one target prompt.");
  if (s.kind == c::ConceptKind::Safety && s.negativePrompt.empty()) return tr("Name the unsafe concept.");
  return {};
}

}  // namespace respo::ui
