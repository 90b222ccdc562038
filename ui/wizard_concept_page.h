#pragma once
// The training wizard's first page: what the module should do (preset, kind, name, group, base model),
// and the unfinished runs a user can resume or discard.
#include <QWizardPage>
#include <vector>

#include "core/respo/concept_settings.h"
#include "gpu/generation_service.h"

class QComboBox;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;

namespace respo::ui {

class ConceptDefinitionPage : public QWizardPage {
  Q_OBJECT
 public:
  explicit ConceptDefinitionPage(const QString& baseModel, QWidget* parent = nullptr);

  // Kind, name and group.
  void apply(const respo::concepts::ConceptSettings& settings);
  void read(respo::concepts::ConceptSettings& settings) const;
  bool isSafety() const;
  QString baseModel() const;
  void setBaseModel(const QString& path);
  void selectPreset(const QString& name);  // empty: "(keep the current settings)"
  void setUnfinished(const std::vector<respo::gpu::UnfinishedTraining>& runs);
  // The selected unfinished run's checkpoint (empty when none is selected).
  QString selectedCheckpoint() const;
  QString selectedOutput() const;
  QString selectedLabel() const;
  // What the page still needs before Next (empty: nothing).
  QString problem() const;

 Q_SIGNALS:
  void presetChosen(const QString& name);
  void kindChanged(bool safety);
  void resumeRequested();
  void discardRequested();

 private:
  QComboBox* preset_ = nullptr;
  QRadioButton* fairness_ = nullptr;
  QRadioButton* safety_ = nullptr;
  QLineEdit* name_ = nullptr;
  QComboBox* group_ = nullptr;
  QLineEdit* baseModel_ = nullptr;
  QListWidget* unfinished_ = nullptr;
  QPushButton* resumeButton_ = nullptr;
  QPushButton* discardButton_ = nullptr;
};

}  // namespace respo::ui
