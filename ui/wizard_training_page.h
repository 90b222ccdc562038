#pragma once
// The training wizard's last page: Train / Pause, progress with elapsed time and ETA, the live loss
// chart, previews (the same seeds without and with the module) and the run's status.
#include <QList>
#include <QWizardPage>

#include "ui/generation_worker.h"

class QGridLayout;
class QLabel;
class QProgressBar;
class QPushButton;

namespace respo::ui {

class LossChart;

class TrainingRunPage : public QWizardPage {
  Q_OBJECT
 public:
  explicit TrainingRunPage(QWidget* parent = nullptr);

  void begin(int totalSteps);  // a run starts (or resumes from its checkpoint)
  void showProgress(const TrainingStatus& status);
  void showFinished(const TrainingResult& result);
  void showEnded(const QString& message, bool failed);  // paused, cancelled or failed
  void setStatus(const QString& text);
  void updateButtons(bool training, bool pausing, bool finished);
  int stepsDone() const;

 Q_SIGNALS:
  void trainRequested();
  void pauseRequested();

 private:
  QPushButton* trainButton_ = nullptr;
  QPushButton* pauseButton_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* stepLabel_ = nullptr;
  QLabel* statusLabel_ = nullptr;
  LossChart* chart_ = nullptr;
  QGridLayout* previewGrid_ = nullptr;
  QList<QLabel*> baselinePreviews_, currentPreviews_;
};

}  // namespace respo::ui
