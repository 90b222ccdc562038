// MainWindow: the picture files it writes and reads. Saving and autosaving a result (the naming rules
// are core/io/picture_files.h, shared with the command line), the output folder, restoring settings
// from a saved picture (menu, history, drop) and the comparison sheet.
#include <QDateTime>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMimeData>
#include <QStandardPaths>
#include <QStatusBar>
#include <filesystem>

#include "core/io/image.h"
#include "core/io/picture_files.h"
#include "core/pipeline/generation_parameters.h"
#include "core/respo/selection.h"
#include "ui/comparison_view.h"
#include "ui/concept_panel.h"
#include "ui/history_panel.h"
#include "ui/image_pixels.h"
#include "ui/main_window.h"
#include "ui/methods_box.h"
#include "ui/parameter_form.h"

namespace respo::ui {

bool MainWindow::saveImages(const QString& path) {
  if (!lastResult_) {
    showError(tr("Nothing to save"), tr("Generate an image first."));
    return false;
  }
  try {
    writeResult(*lastResult_, path);
  } catch (const std::exception& e) {
    showError(tr("Cannot save the images"), QString::fromUtf8(e.what()));
    return false;
  }
  statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
  return true;
}

QStringList MainWindow::writeResult(const JobResult& r, const QString& path) const {
  // The engine's own pixels when the result came from it; a result restored from disk has only QImages.
  respo::io::PictureSet pictures;
  pictures.responsible = r.responsiblePixels;
  if (pictures.responsible.empty())
    for (const auto& image : r.responsible) pictures.responsible.push_back(fromQImage(image));
  if (!r.responsibleIsBaseline) {
    pictures.baseline = r.baselinePixels;
    if (pictures.baseline.empty())
      for (const auto& image : r.baseline) pictures.baseline.push_back(fromQImage(image));
  }
  pictures.parameters = r.parameters.toStdString();
  pictures.baselineParameters = r.baselineParameters.toStdString();
  QStringList written;
  for (const auto& file : respo::io::writePictures(path.toStdString(), pictures)) written << QString::fromStdString(file.string());
  return written;
}

QString MainWindow::nextAutosavePath(const JobResult& result) const {
  QDir().mkpath(outputFolder_);
  const QString stem = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss") + "-" + QString::number(result.request.seed);
  return QString::fromStdString(respo::io::freshPicturePath(outputFolder_.toStdString(), stem.toStdString()).string());
}

bool MainWindow::autosave() const { return autosaveAction_->isChecked(); }

void MainWindow::setAutosave(bool on) { autosaveAction_->setChecked(on); }

QString MainWindow::defaultOutputFolder() {
  QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  if (pictures.isEmpty()) pictures = QDir::homePath();
  return QDir(pictures).filePath("RespoDiff");
}

void MainWindow::setOutputFolder(const QString& folder) {
  if (folder.isEmpty() || QDir::cleanPath(folder) == QDir::cleanPath(outputFolder_)) return;
  outputFolder_ = folder;
  history_->addFolder(folder);
  statusBar()->showMessage(tr("Saving to %1").arg(QDir::toNativeSeparators(folder)), 5000);
}

void MainWindow::chooseOutputFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Output folder"), outputFolder_);
  if (!folder.isEmpty()) setOutputFolder(folder);
}

bool MainWindow::restoreFromFile(const QString& path) {
  const HistoryEntry entry = HistoryPanel::readFile(path);
  if (entry.responsible.isEmpty()) {
    showError(tr("Cannot restore the settings"),
              tr("%1 is not a readable PNG image: %2").arg(QDir::toNativeSeparators(path), entry.error));
    return false;
  }
  if (entry.parameters.isEmpty()) {
    showError(tr("Cannot restore the settings"),
              tr("%1 carries no generation parameters (it was not saved by RespoDiff Studio or another Stable "
                 "Diffusion front end).").arg(QDir::toNativeSeparators(path)));
    return false;
  }
  return restoreEntry(entry);
}

bool MainWindow::restoreEntry(const HistoryEntry& entry) {
  std::map<std::string, std::string> extra;
  respo::pipeline::GenerationRequest request;
  respo::concepts::Selection concepts;
  respo::responsible::SideRecord leftMethods, rightMethods;
  try {
    request = respo::pipeline::parseParameters(entry.parameters.toStdString(), &extra);
    concepts = respo::concepts::Selection::fromParameters(extra);
    rightMethods = respo::responsible::sideFromParameters(extra);
    leftMethods = respo::responsible::sideFromParameters(extra, "Baseline ");
  } catch (const std::exception& e) {
    showError(tr("Cannot restore the settings"), QString::fromUtf8(e.what()));
    return false;
  }
  form_->setRequest(request);
  const QStringList missing = concepts_->applySelection(concepts);
  QStringList notes = missing;
  refreshConceptEdits();
  notes << methods_->applyRecord(MethodsBox::Side::Left, leftMethods);
  notes << methods_->applyRecord(MethodsBox::Side::Right, rightMethods);
  if (const auto model = extra.find("Model"); model != extra.end() && !model_.isEmpty()) {
    // Written as a folder's name or a file's name without its extension (older texts: with it).
    const QString name = QString::fromStdString(model->second);
    const QFileInfo current(model_);
    if (name != current.fileName() && name != current.completeBaseName())
      notes << tr("made with the model %1").arg(name);
  }
  if (const auto sampler = extra.find("Sampler"); sampler != extra.end())
    notes << tr("the sampler %1 is not available here: the model's own is used")
                 .arg(QString::fromStdString(sampler->second));
  if (!entry.responsible.isEmpty()) {
    comparison_->setImages(entry.baseline.isEmpty() ? entry.responsible : entry.baseline, entry.responsible);
    JobResult shown;
    shown.baseline = entry.baseline.isEmpty() ? entry.responsible : entry.baseline;
    shown.responsible = entry.responsible;
    shown.request = request;
    shown.parameters = entry.parameters;
    shown.responsibleIsBaseline = entry.baseline.isEmpty();
    lastResult_ = shown;
    updateBusyState();
  }
  statusBar()->showMessage(notes.isEmpty() ? tr("Settings restored") : tr("Settings restored; %1").arg(notes.join("; ")), 8000);
  return true;
}

void MainWindow::restoreFromFileDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Restore settings from an image"), outputFolder_,
                                                    tr("PNG images (*.png)"));
  if (!path.isEmpty()) restoreFromFile(path);
}

bool MainWindow::exportComparisonSheet(const QString& path) {
  if (!lastResult_) {
    showError(tr("Nothing to export"), tr("Generate an image first."));
    return false;
  }
  const auto& r = *lastResult_;
  const QImage sheet = ComparisonView::comparisonSheet(r.baseline, r.responsible, r.parameters, r.members);
  try {
    // The sheet's own size in its text; the images' size as "Sheet cell size" (what restoring uses).
    respo::io::writePng(path.toStdString(), fromQImage(sheet),
                        {{"parameters", respo::pipeline::pictureParameters(r.parameters.toStdString(), sheet.width(),
                                                                           sheet.height())}});
  } catch (const std::exception& e) {
    showError(tr("Cannot export the comparison sheet"), QString::fromUtf8(e.what()));
    return false;
  }
  statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 5000);
  return true;
}

void MainWindow::exportComparisonSheetDialog() {
  if (!lastResult_) return;
  QString path = QFileDialog::getSaveFileName(this, tr("Export comparison sheet"),
                                              QDir(outputFolder_).filePath("comparison.png"), tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(".png", Qt::CaseInsensitive)) path += ".png";
  exportComparisonSheet(path);
}

namespace {
QString droppedPng(const QMimeData* mime) {
  if (!mime || !mime->hasUrls()) return {};
  for (const auto& url : mime->urls())
    if (url.isLocalFile() && url.toLocalFile().endsWith(".png", Qt::CaseInsensitive)) return url.toLocalFile();
  return {};
}
}  // namespace

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (!droppedPng(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QString path = droppedPng(event->mimeData());
  if (path.isEmpty()) return;
  event->acceptProposedAction();
  restoreFromFile(path);
}

void MainWindow::save() {
  if (!lastResult_) return;
  QString path = QFileDialog::getSaveFileName(this, tr("Save images"), QStringLiteral("respodiff.png"),
                                              tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(".png", Qt::CaseInsensitive)) path += ".png";
  saveImages(path);
}

}  // namespace respo::ui
