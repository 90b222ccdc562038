#include "ui/wizard_training_page.h"

#include <QDir>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <cmath>

#include "ui/loss_chart.h"

namespace respo::ui {

namespace {

QString formatSeconds(double seconds) {
  if (seconds < 0) return QObject::tr("estimating...");
  const int s = static_cast<int>(std::lround(seconds));
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

}  // namespace

TrainingRunPage::TrainingRunPage(QWidget* parent) : QWizardPage(parent) {
  setTitle(tr("Training"));
  setSubTitle(tr("Runs in the background; the main window stays usable (a generation asked for meanwhile "
                 "runs first, then training continues). Pause keeps a checkpoint: resume later, also after "
                 "closing the app."));
  auto* layout = new QVBoxLayout(this);
  auto* buttons = new QHBoxLayout;
  trainButton_ = new QPushButton(tr("Train"));
  trainButton_->setObjectName("trainButton");
  pauseButton_ = new QPushButton(tr("Pause"));
  pauseButton_->setObjectName("pauseButton");
  progress_ = new QProgressBar;
  progress_->setObjectName("trainingProgress");
  buttons->addWidget(trainButton_);
  buttons->addWidget(pauseButton_);
  buttons->addWidget(progress_, 1);
  layout->addLayout(buttons);
  stepLabel_ = new QLabel(tr("Not started"));
  stepLabel_->setObjectName("trainingStepLabel");
  layout->addWidget(stepLabel_);
  chart_ = new LossChart(this);
  layout->addWidget(chart_, 1);
  auto* previews = new QGroupBox(tr("Previews: the same seeds without the module (top) and with it (bottom)"));
  previewGrid_ = new QGridLayout(previews);
  layout->addWidget(previews);
  statusLabel_ = new QLabel;
  statusLabel_->setObjectName("trainingStatus");
  statusLabel_->setWordWrap(true);
  layout->addWidget(statusLabel_);
  connect(trainButton_, &QPushButton::clicked, this, &TrainingRunPage::trainRequested);
  connect(pauseButton_, &QPushButton::clicked, this, &TrainingRunPage::pauseRequested);
}

void TrainingRunPage::begin(int totalSteps) {
  chart_->clear(totalSteps);
  progress_->setRange(0, totalSteps);
  progress_->setValue(0);
  statusLabel_->setText(tr("Starting (a run with a checkpoint continues from it)..."));
}

void TrainingRunPage::showProgress(const TrainingStatus& status) {
  progress_->setRange(0, status.total);
  progress_->setValue(status.step);
  if (!status.history.empty()) {  // a resumed run: the curve so far
    chart_->clear(status.total);
    for (std::size_t i = 0; i < status.history.size(); ++i)
      chart_->add(static_cast<int>(i) + 1, status.history[i].first, status.history[i].second);
  }
  if (status.step > status.resumedFrom) chart_->add(status.step, status.responsibleLoss, status.semanticLoss);
  QString text = tr("Step %1 of %2").arg(status.step).arg(status.total);
  if (status.resumedFrom > 0) text += tr(" (resumed at %1)").arg(status.resumedFrom);
  if (status.step > status.resumedFrom)
    text += tr(" · L_resp %1 · L_sem %2 · %3 elapsed · ETA %4")
                .arg(status.responsibleLoss, 0, 'g', 4)
                .arg(status.semanticLoss, 0, 'g', 4)
                .arg(formatSeconds(status.seconds), formatSeconds(status.etaSeconds));
  stepLabel_->setText(text);
  auto show = [this](const QList<QImage>& images, QList<QLabel*>& labels, int row, const QString& prefix) {
    for (int i = 0; i < images.size(); ++i) {
      if (i >= labels.size()) {
        auto* label = new QLabel;
        label->setObjectName(QString("%1Preview%2").arg(prefix).arg(i));
        label->setMinimumSize(128, 128);
        label->setAlignment(Qt::AlignCenter);
        previewGrid_->addWidget(label, row, i);
        labels << label;
      }
      labels[i]->setPixmap(QPixmap::fromImage(images[i].scaled(128, 128, Qt::KeepAspectRatio, Qt::FastTransformation)));
    }
  };
  show(status.baseline, baselinePreviews_, 0, "baseline");
  show(status.current, currentPreviews_, 1, "current");
  if (!status.current.isEmpty()) statusLabel_->setText(tr("Preview at step %1").arg(status.step));
}

void TrainingRunPage::showFinished(const TrainingResult& result) {
  progress_->setValue(progress_->maximum());
  statusLabel_->setText(tr("Saved %1 (%2 steps in %3%4). It is listed in the main window's concept panel.")
                            .arg(QDir::toNativeSeparators(result.file))
                            .arg(result.steps)
                            .arg(formatSeconds(result.seconds),
                                 result.resumedFrom > 0 ? tr(", resumed at step %1").arg(result.resumedFrom) : QString()));
}

void TrainingRunPage::showEnded(const QString& message, bool failed) {
  if (failed) statusLabel_->setText(tr("Training failed: %1").arg(message));
  else if (progress_->value() > 0)
    statusLabel_->setText(tr("Paused at step %1; Resume continues from the checkpoint.").arg(progress_->value()));
  else
    statusLabel_->setText(tr("Stopped before the first step."));
}

void TrainingRunPage::setStatus(const QString& text) { statusLabel_->setText(text); }

void TrainingRunPage::updateButtons(bool training, bool pausing, bool finished) {
  trainButton_->setEnabled(!training);
  trainButton_->setText(finished ? tr("Train again") : progress_->value() > 0 ? tr("Resume") : tr("Train"));
  pauseButton_->setEnabled(training && !pausing);
}

int TrainingRunPage::stepsDone() const { return progress_->value(); }

}  // namespace respo::ui
