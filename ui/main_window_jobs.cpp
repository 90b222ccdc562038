// MainWindow: generation jobs. Queues the form's request with the concept panel's selection on the
// worker, follows its progress and previews, shows and autosaves what comes back.
#include <QCheckBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>

#include "ui/comparison_view.h"
#include "ui/concept_panel.h"
#include "ui/history_panel.h"
#include "ui/main_window.h"
#include "ui/method_grid_dialog.h"
#include "ui/methods_box.h"
#include "ui/parameter_form.h"

namespace respo::ui {

void MainWindow::generate() {
  if (model_.isEmpty()) {
    statusBar()->showMessage(tr("Open a model first (\"Open model...\")."), 5000);
    return;
  }
  form_->advanceSeed();
  enqueue(currentJob(), false);
}

respo::gpu::GenerationJob MainWindow::currentJob() const {
  respo::gpu::GenerationJob job;
  job.request = form_->request();
  job.selection = concepts_->selection();
  job.left = methods_->methods(MethodsBox::Side::Left);
  job.right = methods_->methods(MethodsBox::Side::Right);
  return job;
}

int MainWindow::enqueue(const respo::gpu::GenerationJob& job, bool live) {
  const int id = worker_->enqueue(job);
  if (live) liveJobs_.insert(id);
  const QString prompt = QString::fromStdString(job.request.prompt);
  history_->addQueued(id, live ? tr("re-render of %1").arg(prompt) : prompt);
  return id;
}

void MainWindow::cancel() {
  if (!isBusy() && queuedJobs_ == 0) return;
  progressLabel_->setText(tr("Cancelling..."));
  liveUpdatePending_ = false;
  worker_->cancelAll();
}

void MainWindow::onConceptsEdited() {
  // Only the responsible side changes, so a re-render is cheap: the worker reuses the baseline.
  if (!liveUpdate_->isChecked() || !lastResult_ || model_.isEmpty()) return;
  if (isBusy() || queuedJobs_ > 0) {
    liveUpdatePending_ = true;  // rendered when the running job ends, with the settings of then
    return;
  }
  liveUpdatePending_ = false;
  enqueue(currentJob(), true);
}

void MainWindow::onStepProgressed(int id, int step, int total, const QImage& preview, double iterationsPerSecond) {
  if (id != runningJob_) return;
  progress_->setRange(0, total);
  progress_->setValue(step);
  QString text = tr("Step %1/%2").arg(step).arg(total);
  if (iterationsPerSecond > 0) {
    const double eta = (total - step) / iterationsPerSecond;
    text += tr(" · %1 it/s · ETA %2 s").arg(iterationsPerSecond, 0, 'f', 1).arg(eta, 0, 'f', eta < 10 ? 1 : 0);
  }
  progressLabel_->setText(text);
  if (!preview.isNull()) comparison_->setPreview(preview, previewOnResponsibleSide_);
}

void MainWindow::onJobFinished(int id, const JobResult& result) {
  if (grid_ && grid_->owns(id)) {  // a cell of the methods grid: nowhere else
    grid_->addResult(id, result.responsible.value(0));
    onJobEnded(id, tr("Grid cell done"));
    return;
  }
  comparison_->setImages(result.baseline, result.responsible);
  lastResult_ = result;
  HistoryEntry entry{result.parameters, {}, result.baseline, result.responsible, {}};
  if (autosave() && !liveJobs_.contains(id)) {
    try {
      const QStringList files = writeResult(result, nextAutosavePath(result));
      entry.file = files.value(0);
      Q_EMIT imagesSaved(files);
    } catch (const std::exception& e) {
      showError(tr("Cannot save the images"), tr("%1\n\nSaving every generation is now off; choose another output "
                                                 "folder in the File menu.").arg(QString::fromUtf8(e.what())));
      setAutosave(false);
    }
  }
  history_->addEntry(entry);
  QString status = tr("Done in %1 s").arg(result.seconds, 0, 'f', 1);
  if (result.baselineFromCache) status += tr(" (baseline reused)");
  if (result.responsibleIsBaseline) status += tr(" (no concept enabled: both sides are the baseline)");
  if (!result.members.isEmpty() && !result.members.front().isEmpty())
    status += tr(" · members: %1").arg(result.members.join(" | "));
  onJobEnded(id, status);
  Q_EMIT resultShown(result);
  if (liveUpdatePending_ && !isBusy() && queuedJobs_ == 0) onConceptsEdited();
}

void MainWindow::onJobEnded(int id, const QString& status) {
  if (id == runningJob_) runningJob_ = 0;
  history_->removeJob(id);
  liveJobs_.remove(id);
  progress_->setRange(0, 1);
  progress_->setValue(status == tr("Cancelled") ? 0 : 1);
  progressLabel_->setText(status);  // (the status bar's message area stays free for other notes)
  updateBusyState();
}

void MainWindow::updateBusyState() {
  const bool busy = isBusy() || queuedJobs_ > 0;
  cancelButton_->setEnabled(busy);
  cancelAction_->setEnabled(busy);
  generateButton_->setText(busy ? tr("Queue another") : tr("Generate"));
  saveAction_->setEnabled(lastResult_.has_value());
  exportSheetAction_->setEnabled(lastResult_.has_value());
  if (busy != wasBusy_) {
    wasBusy_ = busy;
    Q_EMIT busyChanged(busy);
  }
}

}  // namespace respo::ui
