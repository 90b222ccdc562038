#include "ui/history_panel.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QListWidget>
#include <QMenu>
#include <QPainter>
#include <QVBoxLayout>

#include "core/io/image.h"
#include "core/io/picture_files.h"
#include "ui/image_pixels.h"

namespace respo::ui {
namespace {

constexpr int kThumb = 96;
constexpr int kKindRole = Qt::UserRole;    // "picture" or "job"
constexpr int kEntryRole = Qt::UserRole + 1;
constexpr int kJobRole = Qt::UserRole + 2;
constexpr int kFileRole = Qt::UserRole + 3;
constexpr int kRunningRole = Qt::UserRole + 4;

QIcon thumbnail(const QImage& image) {
  QImage canvas(kThumb, kThumb, QImage::Format_RGB888);
  canvas.fill(QColor(40, 40, 40));
  if (!image.isNull()) {
    QPainter p(&canvas);
    const QImage scaled = image.scaled(kThumb, kThumb, Qt::KeepAspectRatio,
                                       image.width() * 2 <= kThumb ? Qt::FastTransformation : Qt::SmoothTransformation);
    p.drawImage((kThumb - scaled.width()) / 2, (kThumb - scaled.height()) / 2, scaled);
  }
  return QIcon(QPixmap::fromImage(canvas));
}

QString firstLine(const QString& parameters) { return parameters.section('\n', 0, 0).left(80); }

QString tooltip(const HistoryEntry& e) {
  QString tip = e.parameters.toHtmlEscaped().replace('\n', "<br>");
  if (!e.file.isEmpty()) tip += "<br><i>" + QDir::toNativeSeparators(e.file).toHtmlEscaped() + "</i>";
  return tip;
}

}  // namespace

HistoryPanel::HistoryPanel(QWidget* parent) : QWidget(parent) {
  qRegisterMetaType<respo::ui::HistoryEntry>();
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  list_ = new QListWidget(this);
  list_->setObjectName("historyList");
  list_->setViewMode(QListView::IconMode);
  list_->setFlow(QListView::LeftToRight);
  list_->setWrapping(false);
  list_->setIconSize(QSize(kThumb, kThumb));
  list_->setGridSize(QSize(kThumb + 16, kThumb + 34));
  list_->setMovement(QListView::Static);
  list_->setResizeMode(QListView::Adjust);
  list_->setWordWrap(true);
  list_->setTextElideMode(Qt::ElideRight);
  list_->setUniformItemSizes(true);
  list_->setContextMenuPolicy(Qt::CustomContextMenu);
  list_->setToolTip(tr("Click a picture to restore its settings; queued jobs can be removed from their menu"));
  layout->addWidget(list_);
  connect(list_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
    if (item->data(kKindRole).toString() == "picture") Q_EMIT entryActivated(entryOf(item));
  });
  connect(list_, &QListWidget::customContextMenuRequested, this, &HistoryPanel::showContextMenu);
}

QListWidgetItem* HistoryPanel::pictureItem(const HistoryEntry& e, const QImage& image) {
  auto* item = new QListWidgetItem(thumbnail(image), firstLine(e.parameters));
  item->setData(kKindRole, QStringLiteral("picture"));
  item->setData(kEntryRole, QVariant::fromValue(e));
  item->setData(kFileRole, e.file.isEmpty() ? QString() : QFileInfo(e.file).absoluteFilePath());
  item->setToolTip(tooltip(e));
  return item;
}

void HistoryPanel::addEntry(const HistoryEntry& e) {
  auto* item = pictureItem(e, e.responsible.isEmpty() ? QImage() : e.responsible.front());
  // After the queued and running jobs, before older pictures.
  int row = 0;
  while (row < list_->count() && list_->item(row)->data(kKindRole) == "job") ++row;
  list_->insertItem(row, item);
}

int HistoryPanel::addFolder(const QString& folder, int limit) {
  QDir dir(folder);
  if (folder.isEmpty() || !dir.exists()) return 0;
  QSet<QString> listed;
  for (int i = 0; i < list_->count(); ++i) listed.insert(list_->item(i)->data(kFileRole).toString());
  const auto files = dir.entryInfoList({"*.png", "*.PNG"}, QDir::Files, QDir::Time);
  int added = 0;
  for (const auto& info : files) {
    if (added >= limit) break;
    if (respo::io::isBaselineCompanion(info.fileName().toStdString()) || listed.contains(info.absoluteFilePath())) continue;
    // Pictures with generation parameters only; a damaged or foreign file is skipped.
    std::map<std::string, std::string> text;
    respo::io::RgbImage image;
    try {
      image = respo::io::readPng(info.absoluteFilePath().toStdString(), &text);
    } catch (const std::exception&) {
      continue;
    }
    const auto parameters = text.find("parameters");
    if (parameters == text.end() || parameters->second.empty()) continue;
    list_->addItem(pictureItem({QString::fromStdString(parameters->second), info.absoluteFilePath(), {}, {}, {}}, toQImage(image)));
    ++added;
  }
  return added;
}

int HistoryPanel::entryCount() const {
  int n = 0;
  for (int i = 0; i < list_->count(); ++i) n += list_->item(i)->data(kKindRole) == "picture";
  return n;
}

HistoryEntry HistoryPanel::entry(int row) const {
  for (int i = 0, seen = 0; i < list_->count(); ++i)
    if (list_->item(i)->data(kKindRole) == "picture" && seen++ == row) return entryOf(list_->item(i));
  return {};
}

HistoryEntry HistoryPanel::entryOf(const QListWidgetItem* item) {
  auto e = item->data(kEntryRole).value<HistoryEntry>();
  if (e.responsible.isEmpty() && !e.file.isEmpty()) {  // listed from disk: read its images now
    const auto read = readFile(e.file);
    e.responsible = read.responsible;
    e.baseline = read.baseline;
  }
  return e;
}

HistoryEntry HistoryPanel::readFile(const QString& path) {
  HistoryEntry e;
  // The engine's bounded PNG reader (the one the command line uses), which also refuses a pipe or a
  // device instead of blocking on it.
  if (!QFileInfo(path).isFile()) {
    e.error = tr("not a regular file");
    return e;
  }
  std::map<std::string, std::string> text;
  respo::io::RgbImage image;
  try {
    image = respo::io::readPng(path.toStdString(), &text);
  } catch (const std::exception& error) {
    e.error = QString::fromUtf8(error.what());
    return e;
  }
  if (const auto found = text.find("parameters"); found != text.end()) e.parameters = QString::fromStdString(found->second);
  e.file = QFileInfo(path).absoluteFilePath();
  e.responsible = {toQImage(image)};
  try {
    const auto companion = baselineCompanion(path).toStdString();
    if (QFileInfo(QString::fromStdString(companion)).isFile()) {
      const auto baseline = respo::io::readPng(companion);
      if (baseline.width == image.width && baseline.height == image.height) e.baseline = {toQImage(baseline)};
    }
  } catch (const std::exception&) {
    // A damaged companion: the picture restores without its baseline.
  }
  return e;
}

QString HistoryPanel::baselineCompanion(const QString& path) {
  return QString::fromStdString(respo::io::baselineCompanion(path.toStdString()).string());
}

void HistoryPanel::addQueued(int jobId, const QString& prompt) {
  auto* item = new QListWidgetItem(thumbnail({}), tr("Queued: %1").arg(prompt.left(60)));
  item->setData(kKindRole, QStringLiteral("job"));
  item->setData(kJobRole, jobId);
  item->setToolTip(tr("Waiting in the queue. Right-click to remove it."));
  // Queued jobs line up in the order they will run, after the running one, before the pictures.
  int row = 0;
  while (row < list_->count() && list_->item(row)->data(kKindRole) == "job") ++row;
  list_->insertItem(row, item);
}

void HistoryPanel::setRunning(int jobId) {
  if (auto* item = jobItem(jobId)) {
    item->setText(tr("Running: %1").arg(item->text().section(": ", 1)));
    item->setToolTip(tr("Generating now. Right-click (or Esc) to cancel it."));
    item->setData(kRunningRole, true);
  }
}

void HistoryPanel::removeJob(int jobId) { delete jobItem(jobId); }

int HistoryPanel::queuedCount() const { return list_->count() - entryCount(); }

QList<int> HistoryPanel::jobIds() const {
  QList<int> ids;
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->data(kKindRole) == "job") ids << list_->item(i)->data(kJobRole).toInt();
  return ids;
}

QListWidgetItem* HistoryPanel::jobItem(int jobId) const {
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->data(kKindRole) == "job" && list_->item(i)->data(kJobRole).toInt() == jobId) return list_->item(i);
  return nullptr;
}

void HistoryPanel::showContextMenu(const QPoint& position) {
  auto* item = list_->itemAt(position);
  if (!item) return;
  QMenu menu(this);
  if (item->data(kKindRole) == "job") {
    const int id = item->data(kJobRole).toInt();
    menu.addAction(item->data(kRunningRole).toBool() ? tr("Cancel") : tr("Remove from the queue"), this,
                   [this, id] { Q_EMIT removeQueuedRequested(id); });
  } else {
    menu.addAction(tr("Restore its settings"), this, [this, item] {
      Q_EMIT list_->itemClicked(item);
    });
  }
  menu.exec(list_->viewport()->mapToGlobal(position));
}

}  // namespace respo::ui
