#include "ui/wizard_concept_page.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>
#include <algorithm>


namespace respo::ui {

namespace c = respo::concepts;

ConceptDefinitionPage::ConceptDefinitionPage(const QString& baseModel, QWidget* parent) : QWizardPage(parent) {
  setTitle(tr("The concept"));
  setSubTitle(tr("What the module should do. A fairness concept is one member of a group (the app "
                 "draws among a group's members per image); a safety concept steers away from "
                 "unsafe content."));
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  preset_ = new QComboBox;
  preset_->setObjectName("presetCombo");
  preset_->addItem(tr("(keep the current settings)"), QString());
  for (const auto& name : c::presetNames()) preset_->addItem(QString::fromStdString(name), QString::fromStdString(name));
  preset_->setToolTip(tr("The paper's settings for a concept of this kind (method.md); every value stays editable"));
  form->addRow(tr("Start from preset"), preset_);
  fairness_ = new QRadioButton(tr("Fairness: a member of a group"));
  fairness_->setObjectName("fairnessRadio");
  safety_ = new QRadioButton(tr("Safety: steer away from an unsafe concept"));
  safety_->setObjectName("safetyRadio");
  auto* kinds = new QButtonGroup(this);
  kinds->addButton(fairness_);
  kinds->addButton(safety_);
  auto* kindBox = new QVBoxLayout;
  kindBox->addWidget(fairness_);
  kindBox->addWidget(safety_);
  form->addRow(tr("Kind"), kindBox);
  name_ = new QLineEdit;
  name_->setObjectName("conceptName");
  name_->setPlaceholderText(tr("e.g. a woman, an elderly person, violence"));
  form->addRow(tr("Name"), name_);
  group_ = new QComboBox;
  group_->setObjectName("conceptGroup");
  group_->setEditable(true);
  group_->addItems({"gender", "skin tone", "race", "age"});
  group_->setToolTip(tr("Members of one group are balanced against each other in the main window"));
  form->addRow(tr("Group"), group_);
  auto* modelRow = new QHBoxLayout;
  baseModel_ = new QLineEdit(baseModel);
  baseModel_->setObjectName("baseModel");
  baseModel_->setToolTip(tr("The module is trained for this model; the main window switches to it when training starts"));
  auto* browseFolder = new QPushButton(tr("Folder..."));
  connect(browseFolder, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Base model (a diffusers folder)"), baseModel_->text());
    if (!folder.isEmpty()) baseModel_->setText(folder);
  });
  auto* browseFile = new QPushButton(tr("File..."));
  connect(browseFile, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Base model (a single-file checkpoint)"), baseModel_->text(),
                                                      tr("Safetensors checkpoints (*.safetensors)"));
    if (!file.isEmpty()) baseModel_->setText(file);
  });
  modelRow->addWidget(baseModel_, 1);
  modelRow->addWidget(browseFolder);
  modelRow->addWidget(browseFile);
  form->addRow(tr("Base model"), modelRow);
  layout->addLayout(form);

  auto* resumeBox = new QGroupBox(tr("Unfinished runs (stopped before their last step)"));
  auto* resumeLayout = new QVBoxLayout(resumeBox);
  unfinished_ = new QListWidget;
  unfinished_->setObjectName("unfinishedList");
  unfinished_->setMaximumHeight(110);
  resumeButton_ = new QPushButton(tr("Resume the selected run"));
  resumeButton_->setObjectName("resumeUnfinishedButton");
  resumeButton_->setEnabled(false);
  discardButton_ = new QPushButton(tr("Discard..."));
  discardButton_->setObjectName("discardUnfinishedButton");
  discardButton_->setEnabled(false);
  resumeLayout->addWidget(unfinished_);
  auto* resumeButtons = new QHBoxLayout;
  resumeButtons->addStretch(1);
  resumeButtons->addWidget(discardButton_);
  resumeButtons->addWidget(resumeButton_);
  resumeLayout->addLayout(resumeButtons);
  layout->addWidget(resumeBox);
  layout->addStretch(1);
  connect(unfinished_, &QListWidget::currentRowChanged, this, [this](int row) {
    resumeButton_->setEnabled(row >= 0);
    discardButton_->setEnabled(row >= 0);
  });
  connect(resumeButton_, &QPushButton::clicked, this, &ConceptDefinitionPage::resumeRequested);
  connect(discardButton_, &QPushButton::clicked, this, &ConceptDefinitionPage::discardRequested);
  connect(preset_, &QComboBox::activated, this, [this](int index) {
    const QString name = preset_->itemData(index).toString();
    if (!name.isEmpty()) Q_EMIT presetChosen(name);
  });
  connect(fairness_, &QRadioButton::toggled, this, [this] {
    const bool safety = safety_->isChecked();
    group_->setEnabled(!safety);
    if (safety) group_->setEditText("safety");
    else if (group_->currentText() == "safety") group_->setEditText("gender");
    Q_EMIT kindChanged(safety);
  });
}

void ConceptDefinitionPage::apply(const c::ConceptSettings& s) {
  (s.kind == c::ConceptKind::Safety ? safety_ : fairness_)->setChecked(true);
  const bool safety = s.kind == c::ConceptKind::Safety;
  group_->setEnabled(!safety);
  if (safety) group_->setEditText("safety");
  name_->setText(QString::fromStdString(s.name));
  if (!safety) group_->setEditText(QString::fromStdString(s.group));
  Q_EMIT kindChanged(safety);
}

void ConceptDefinitionPage::read(c::ConceptSettings& s) const {
  s.kind = safety_->isChecked() ? c::ConceptKind::Safety : c::ConceptKind::Fairness;
  s.name = name_->text().trimmed().toStdString();
  s.group = s.kind == c::ConceptKind::Safety ? "safety" : group_->currentText().trimmed().toStdString();
}

bool ConceptDefinitionPage::isSafety() const { return safety_->isChecked(); }
QString ConceptDefinitionPage::baseModel() const { return baseModel_->text().trimmed(); }
void ConceptDefinitionPage::setBaseModel(const QString& path) { baseModel_->setText(path); }

void ConceptDefinitionPage::selectPreset(const QString& name) {
  preset_->setCurrentIndex(std::max(0, name.isEmpty() ? 0 : preset_->findData(name)));
}

void ConceptDefinitionPage::setUnfinished(const std::vector<respo::gpu::UnfinishedTraining>& runs) {
  unfinished_->clear();
  for (const auto& run : runs) {
    auto* item = new QListWidgetItem(tr("%1 (%2): %3 of %4 steps")
                                         .arg(QString::fromStdString(run.settings.name),
                                              QString::fromStdString(run.settings.group))
                                         .arg(run.stepsDone)
                                         .arg(run.settings.steps),
                                     unfinished_);
    item->setData(Qt::UserRole, QString::fromStdString(run.checkpoint.string()));
    item->setData(Qt::UserRole + 1, QString::fromStdString(run.output.string()));
  }
  unfinished_->parentWidget()->setVisible(unfinished_->count() > 0);
}

QString ConceptDefinitionPage::selectedCheckpoint() const {
  auto* item = unfinished_->currentItem();
  return item ? item->data(Qt::UserRole).toString() : QString();
}

QString ConceptDefinitionPage::selectedOutput() const {
  auto* item = unfinished_->currentItem();
  return item ? item->data(Qt::UserRole + 1).toString() : QString();
}

QString ConceptDefinitionPage::selectedLabel() const {
  auto* item = unfinished_->currentItem();
  return item ? item->text() : QString();
}

QString ConceptDefinitionPage::problem() const {
  c::ConceptSettings s;
  read(s);
  if (s.name.empty()) return tr("The concept needs a name.");
  if (s.group.empty()) return tr("A fairness concept needs a group.");
  if (baseModel().isEmpty()) return tr("Choose the base model.");
  return {};
}

}  // namespace respo::ui
