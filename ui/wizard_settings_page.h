#pragma once
// The training wizard's settings page: every hyper-parameter of the preset, editable, each explained in
// one line; and how often the run writes a checkpoint and a preview.
#include <QWizardPage>

#include "core/respo/concept_settings.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace respo::ui {

class TrainingSettingsPage : public QWizardPage {
  Q_OBJECT
 public:
  explicit TrainingSettingsPage(QWidget* parent = nullptr);

  // The hyper-parameters (steps, batch, learning rates, guidance, seed, schedule, resolution).
  void apply(const respo::concepts::ConceptSettings& settings);
  void read(respo::concepts::ConceptSettings& settings) const;
  int checkpointEvery() const;
  int previewEvery() const;
  QString previewPrompt() const;  // empty: the first neutral prompt

 private:
  QSpinBox* steps_ = nullptr;
  QSpinBox* batch_ = nullptr;
  QDoubleSpinBox* ramLr_ = nullptr;
  QDoubleSpinBox* samLr_ = nullptr;
  QDoubleSpinBox* lambda_ = nullptr;
  QDoubleSpinBox* targetGuidance_ = nullptr;
  QDoubleSpinBox* trajectoryGuidance_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* trajectorySteps_ = nullptr;
  QSpinBox* maxTrajectoryStep_ = nullptr;
  QComboBox* init_ = nullptr;
  QComboBox* timestep_ = nullptr;
  QSpinBox* resolution_ = nullptr;
  QSpinBox* checkpointEvery_ = nullptr;
  QSpinBox* previewEvery_ = nullptr;
  QLineEdit* previewPrompt_ = nullptr;
};

}  // namespace respo::ui
