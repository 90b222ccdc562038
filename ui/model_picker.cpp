#include "ui/model_picker.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QMenu>
#include <QSettings>
#include <QSignalBlocker>
#include <QToolButton>

namespace respo::ui {
namespace {

constexpr int kMaxRecent = 8;
const char* kRecentKey = "models/recent";
const char* kLastKey = "models/last";

QString displayName(const QString& path, const QString& defaultModel) {
  const QFileInfo info(path);
  QString name = info.fileName().isEmpty() ? QDir(path).dirName() : info.fileName();
  if (QDir::cleanPath(path) == QDir::cleanPath(defaultModel)) name = QObject::tr("Toy world (embedded default)");
  if (!info.exists()) name += QObject::tr(" (missing)");
  return name;
}

}  // namespace

ModelPicker::ModelPicker(const QString& defaultModel, QWidget* parent) : QWidget(parent), default_(defaultModel) {
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  combo_ = new QComboBox(this);
  combo_->setObjectName("modelCombo");
  combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo_->setMinimumContentsLength(18);
  open_ = new QToolButton(this);
  open_->setObjectName("openModelButton");
  open_->setText(tr("Open model..."));
  open_->setPopupMode(QToolButton::InstantPopup);
  auto* menu = new QMenu(open_);
  menu->addAction(tr("Diffusers folder..."), this, &ModelPicker::openFolder);
  menu->addAction(tr("Single-file checkpoint (.safetensors)..."), this, &ModelPicker::openFile);
  open_->setMenu(menu);
  row->addWidget(combo_, 1);
  row->addWidget(open_);
  connect(combo_, &QComboBox::activated, this, [this](int index) {
    const QString path = combo_->itemData(index).toString();
    if (!path.isEmpty() && path != current_) Q_EMIT modelRequested(path);
  });
  refresh();
}

QStringList ModelPicker::recentModels() const { return QSettings().value(kRecentKey).toStringList(); }

QString ModelPicker::startupModel() const {
  const QString last = QSettings().value(kLastKey).toString();
  return !last.isEmpty() && QFileInfo::exists(last) ? last : default_;
}

void ModelPicker::setCurrentModel(const QString& path) {
  current_ = path;
  QStringList recent = recentModels();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  QSettings settings;
  settings.setValue(kRecentKey, recent);
  settings.setValue(kLastKey, path);
  refresh();
}

void ModelPicker::refresh() {
  const QSignalBlocker block(combo_);
  combo_->clear();
  QStringList paths{default_};
  for (const auto& p : recentModels())
    if (QDir::cleanPath(p) != QDir::cleanPath(default_)) paths << p;
  if (!current_.isEmpty() && !paths.contains(current_)) paths << current_;
  for (const auto& p : paths) {
    combo_->addItem(displayName(p, default_), p);
    combo_->setItemData(combo_->count() - 1, p, Qt::ToolTipRole);
  }
  const int index = combo_->findData(current_);
  combo_->setCurrentIndex(index < 0 ? 0 : index);
}

void ModelPicker::openFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a diffusers model folder"));
  if (!dir.isEmpty()) Q_EMIT modelRequested(dir);
}

void ModelPicker::openFile() {
  const QString file = QFileDialog::getOpenFileName(this, tr("Open a single-file checkpoint"), QString(),
                                                    tr("Safetensors checkpoints (*.safetensors)"));
  if (!file.isEmpty()) Q_EMIT modelRequested(file);
}

}  // namespace respo::ui
