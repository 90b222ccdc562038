#pragma once
// The training wizard's prompts page: neutral and target prompt lists (pasted, or imported from
// .txt/.csv) and, for a safety concept, the unsafe concept.
#include <QWizardPage>

#include "core/respo/concept_settings.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace respo::ui {

class PromptListsPage : public QWizardPage {
  Q_OBJECT
 public:
  explicit PromptListsPage(QWidget* parent = nullptr);

  // The prompts and the unsafe concept (this page's part of the settings).
  void apply(const respo::concepts::ConceptSettings& settings);
  void read(respo::concepts::ConceptSettings& settings) const;  // needs `settings.kind` set
  // Shows the unsafe concept field for a safety concept, and the help for the kind.
  void setSafety(bool safety);
  QString problem(const respo::concepts::ConceptSettings& settings) const;

 private:
  QPlainTextEdit* neutral_ = nullptr;
  QPlainTextEdit* target_ = nullptr;
  QLineEdit* negative_ = nullptr;
  QLabel* negativeLabel_ = nullptr;
  QLabel* help_ = nullptr;
};

}  // namespace respo::ui
